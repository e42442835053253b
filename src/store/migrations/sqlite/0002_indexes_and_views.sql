-- carbon-gate ledger, schema 2 (SQLite): indexes for periods and models, the monthly view.

CREATE INDEX runs_at ON runs (at);
CREATE INDEX runs_model ON runs (model);
CREATE INDEX check_runs_run_key ON check_runs (run_key);

-- Runs and totals per model and calendar month (UTC) of `at`. Sums are SQL sums of the stored
-- figures; energy over the runs that report it (0 when none does).
CREATE VIEW runs_by_month AS
SELECT
    model,
    substr(at, 1, 7)         AS month,
    COUNT(*)                 AS runs,
    TOTAL(energy_kwh)        AS energy_kwh,
    TOTAL(co2e_kg)           AS co2e_kg,
    TOTAL(operational_co2e_kg) AS operational_co2e_kg,
    TOTAL(embodied_co2e_kg)  AS embodied_co2e_kg
FROM runs
GROUP BY model, substr(at, 1, 7);
