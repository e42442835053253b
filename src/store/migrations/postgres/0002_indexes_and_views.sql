-- carbon-gate ledger, schema 2 (PostgreSQL): indexes for periods and models, the monthly view.

CREATE INDEX runs_at ON runs (at);
CREATE INDEX runs_model ON runs (model);
CREATE INDEX check_runs_run_key ON check_runs (run_key);

-- Runs and totals per model and calendar month (UTC) of `at`. Sums are SQL sums of the stored
-- figures; energy over the runs that report it (0 when none does).
CREATE VIEW runs_by_month AS
SELECT
    model,
    substr(at, 1, 7)                       AS month,
    COUNT(*)                               AS runs,
    COALESCE(SUM(energy_kwh), 0)           AS energy_kwh,
    COALESCE(SUM(co2e_kg), 0)              AS co2e_kg,
    COALESCE(SUM(operational_co2e_kg), 0)  AS operational_co2e_kg,
    COALESCE(SUM(embodied_co2e_kg), 0)     AS embodied_co2e_kg
FROM runs
GROUP BY model, substr(at, 1, 7);
