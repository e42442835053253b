-- carbon-gate ledger, schema 1 (SQLite): every counted run once, and the checks that wrote them.
-- Figures are REAL in the unit their column name says; times are TEXT, RFC 3339 UTC to the
-- second (2027-01-31T23:59:59Z), so they sort and compare as text.

CREATE TABLE runs (
    key                 TEXT PRIMARY KEY NOT NULL, -- FORMAT:RUN-ID, or FORMAT:sha256:DIGEST
    format              TEXT NOT NULL,             -- codecarbon, eco2ai, …, history
    run_id              TEXT NOT NULL,             -- the run id as the log has it
    model               TEXT NOT NULL,
    version             TEXT,
    phase               TEXT,                      -- training, fine-tuning, inference, evaluation
    ended_at            TEXT,                      -- when the run ended, from the log (UTC)
    recorded_at         TEXT NOT NULL,             -- when the ledger first stored it
    at                  TEXT NOT NULL,             -- the time budget periods judge it by
    duration_s          REAL,                      -- s
    energy_kwh          REAL,                      -- kWh; NULL: the source has no energy figure
    co2e_kg             REAL NOT NULL,             -- kg CO2e: operational + embodied
    operational_co2e_kg REAL NOT NULL,             -- kg CO2e, location-based
    embodied_co2e_kg    REAL NOT NULL,             -- kg CO2e, Scope 3 category 1
    embodied_basis      TEXT,                      -- log, or the policy's formula
    market_co2e_kg      REAL,                      -- kg CO2e, market-based operational
    co2e_low_kg         REAL,                      -- kg CO2e, low end of an estimate's band
    co2e_high_kg        REAL,                      -- kg CO2e, high end of an estimate's band
    method              TEXT NOT NULL,             -- measured, tdp-estimate, power-estimate, …
    country_iso         TEXT,                      -- ISO 3166 alpha-3
    region              TEXT,
    cloud_provider      TEXT,
    cloud_region        TEXT,
    cpu                 TEXT,
    gpu                 TEXT,
    gpu_count           REAL,
    source              TEXT NOT NULL,             -- file:line it was read from
    file_digest         TEXT NOT NULL,             -- SHA-256 of that file, hex
    repository          TEXT,                      -- OWNER/NAME of the check that stored it
    "commit"            TEXT                       -- commit of the check that stored it
);

CREATE TABLE checks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    time         TEXT NOT NULL,                    -- when it ran (RFC 3339 UTC)
    command      TEXT NOT NULL,                    -- check, promote, record, import
    repository   TEXT,
    "commit"     TEXT,
    pull_request INTEGER,
    verdict      TEXT,                             -- pass, warn, fail; NULL for record, import
    summary      TEXT
);

CREATE TABLE check_runs (
    check_id INTEGER NOT NULL REFERENCES checks (id),
    run_key  TEXT NOT NULL REFERENCES runs (key),
    PRIMARY KEY (check_id, run_key)
);
