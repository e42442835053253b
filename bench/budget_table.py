"""The limits of bench/policy.yaml and the Markdown table the comparison scripts print, shared by
pandas_check.py, pandas_eco2ai.py, pandas_records.py and csv_check.py (imported from the
script's own directory)."""

# bench/policy.yaml
CO2E_WARN_KG = 500_000.0
CO2E_FAIL_KG = 1_000_000.0
ENERGY_FAIL_KWH = 1_000_000.0


def print_table(keys, rows):
    """Print `rows` ((key values, runs, energy kWh, CO2e kg) each) under the column names `keys`
    with a verdict per row, as a Markdown table; return the exit code (1: a fail limit exceeded)."""
    failed = False
    print("| " + " | ".join(keys) + " | Runs | Energy (kWh) | CO2e (kg) | Verdict |")
    print("|" + "---|" * len(keys) + "--:|--:|--:|---|")
    for key, runs, energy, co2e in rows:
        if co2e > CO2E_FAIL_KG or energy > ENERGY_FAIL_KWH:
            verdict, failed = "fail", True
        elif co2e > CO2E_WARN_KG:
            verdict = "warn"
        else:
            verdict = "pass"
        cells = " | ".join(str(k) for k in key)
        print(f"| {cells} | {runs} | {energy:.4g} | {co2e:.4g} | {verdict} |")
    return 1 if failed else 0
