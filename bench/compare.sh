#!/usr/bin/env bash
# Time whole commands on the same generated CodeCarbon logs: carbon-gate check (release build),
# the equivalent pandas and stdlib-csv Python scripts, and `wc -l` / `cat` as the I/O floor.
# Medians from hyperfine, peak RSS from /usr/bin/time -v. See docs/performance.md.
#
#   bash bench/compare.sh                  # 100-row "small PR" file, 10k, 100k, 1M rows
#   SIZES="100 10000" bash bench/compare.sh   # SIZES="" skips these (with SHAPES=1: shapes only)
#   LARGE=1 bash bench/compare.sh          # also: a >1 GB log streamed (generated, then deleted)
#   MANY=1 bash bench/compare.sh           # also: a directory of 10,000 small logs
#   FLAT=1 bash bench/compare.sh           # also: peak RSS by rows for few runs of many snapshots
#   IF=1 bash bench/compare.sh             # also: Impact Framework output manifests that the real
#                                          # if-run writes for IF_SIZES observations (default
#                                          # "10000 100000"), if-run against check on them
#   SHAPES=1 bash bench/compare.sh         # also: one row per run over 2-200 models (uniform and
#                                          # Zipf-skewed), every output format: the monorepo shapes
#   ECO2AI=1 bash bench/compare.sh         # also: eco2AI 0.3.x CSV, one row per run, 100k and 1M rows
#   RECORDS=1 bash bench/compare.sh        # also: carbon-gate NDJSON records, 100k and 1M rows
#                                          # (SHAPES/ECO2AI/RECORDS: BASELINE_BIN=path also times an older
#                                          # carbon-gate binary; FORMAT_SIZES="100000" for fewer rows)
#
# Needs: hyperfine and /usr/bin/time (Debian: apt-get install hyperfine time), python3 (venv).
# Generated data, the pandas venv and results go to $CARBON_GATE_BENCH_DIR (/tmp/carbon-gate-bench),
# never into the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${CARBON_GATE_BENCH_DIR:-/tmp/carbon-gate-bench}
SIZES=${SIZES-"100 10000 100000 1000000"}
PANDAS_VERSION=2.2.3
DATA=$WORK/data
RESULTS=$WORK/results
VENV=$WORK/venv
POLICY=$ROOT/bench/policy.yaml
# CARBON_GATE_BIN=path times that binary instead of building target/release/carbon-gate.
BIN=${CARBON_GATE_BIN:-$ROOT/target/release/carbon-gate}

for tool in hyperfine /usr/bin/time python3 cargo; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Debian: apt-get install hyperfine time python3-venv)" >&2; exit 2; }
done
mkdir -p "$DATA" "$RESULTS"

if ! "$VENV/bin/python" -c "import pandas; assert pandas.__version__ == '$PANDAS_VERSION'" 2>/dev/null; then
    echo "== pandas $PANDAS_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "pandas==$PANDAS_VERSION"
fi
PY=$VENV/bin/python

if [ -z "${CARBON_GATE_BIN:-}" ]; then
    echo "== cargo build --release" >&2
    (cd "$ROOT" && cargo build --release --quiet)
fi

gen() { # rows file
    [ -s "$2" ] || python3 "$ROOT/bench/gen_codecarbon.py" "$1" "$2"
}

rss_mb() { # command... -> peak RSS in MB (the command's output discarded)
    /usr/bin/time -v -o "$RESULTS/time.txt" "$@" >/dev/null 2>&1 || true
    awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$RESULTS/time.txt"
}

{
    echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -srm)"
    echo "# $(lscpu | awk -F': +' '/Model name/ {print $2; exit}'), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# $($PY --version), pandas $($PY -c 'import pandas; print(pandas.__version__)'), $(hyperfine --version), $(rustc --version)"
    echo "# release binary: $(stat -c %s "$BIN") bytes"
} | tee "$RESULTS/env.txt"

TABLE=$RESULTS/table.md
echo "| rows | file | tool | median | mean ± σ | peak RSS | × vs carbon-gate |" > "$TABLE"
echo "|--:|--:|---|--:|--:|--:|--:|" >> "$TABLE"

for n in $SIZES; do
    f=$DATA/codecarbon_$n.csv
    gen "$n" "$f"
    cat "$f" > /dev/null # warm the page cache: every tool reads from memory
    runs=10
    [ "$n" -ge 1000000 ] && runs=5
    names=(carbon-gate pandas python-csv "wc -l" "cat")
    cmds=(
        "$BIN check --policy $POLICY --format markdown $f"
        "$PY $ROOT/bench/pandas_check.py $f"
        "$PY $ROOT/bench/csv_check.py $f"
        "wc -l $f"
        "cat $f"
    )
    echo "== $n rows ($(du -h "$f" | cut -f1))" >&2
    args=()
    for i in "${!cmds[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$RESULTS/hyperfine_$n.json" "${args[@]}" >&2
    rss=()
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086 # the commands are word lists without quoting
        rss+=("$(rss_mb $c)")
    done
    python3 - "$RESULTS/hyperfine_$n.json" "$n" "$(du -h "$f" | cut -f1)" "${rss[@]}" >> "$TABLE" <<'PY'
import json, statistics, sys
path, rows, size, *rss = sys.argv[1:]
results = json.load(open(path))["results"]
base = statistics.median(results[0]["times"])
def t(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
for r, mb in zip(results, rss):
    med = statistics.median(r["times"])
    print(f"| {int(rows):,} | {size} | {r['command']} | {t(med)} | {t(r['mean'])} ± {t(r['stddev'] or 0)} | {mb} MB | {med / base:.2f} |")
PY
done

if [ "${MANY:-0}" = 1 ]; then
    # 10,000 logs of 3 rows each vs the same 30,000 rows in one file.
    dir=$DATA/many
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        python3 "$ROOT/bench/gen_codecarbon.py" 30000 "$DATA/many_one.csv" --seed 7
        python3 - "$DATA/many_one.csv" "$dir" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(keepends=True)
header, rows = lines[0], lines[1:]
for k in range(10_000):
    with open(f"{sys.argv[2]}/run_{k:05d}.csv", "w") as f:
        f.write(header + "".join(rows[3 * k:3 * k + 3]))
PY
    fi
    echo "== 10,000 files" >&2
    hyperfine --warmup 1 --runs 5 --export-json "$RESULTS/hyperfine_many.json" \
        --command-name "carbon-gate, 10,000 files of 3 rows" "$BIN check --policy $POLICY --format markdown $dir" \
        --command-name "carbon-gate, 1 file of 30,000 rows" "$BIN check --policy $POLICY --format markdown $DATA/many_one.csv" \
        --command-name "cat, 10,000 files" "cat -- $dir/*" >&2
    echo "peak RSS 10,000 files: $(rss_mb "$BIN" check --policy "$POLICY" --format markdown "$dir") MB" | tee -a "$RESULTS/env.txt"
fi

if [ "${FLAT:-0}" = 1 ]; then
    # Memory grows with the runs, not the rows: 1,000 snapshots per run (rows / 1,000 runs).
    for n in 10000 100000 1000000; do
        f=$DATA/few_runs_$n.csv
        [ -s "$f" ] || python3 "$ROOT/bench/gen_codecarbon.py" "$n" "$f" --snapshots 1000 --seed 5
        echo "peak RSS $n rows of $((n / 1000)) runs: $(rss_mb "$BIN" check --policy "$POLICY" --format markdown "$f") MB" | tee -a "$RESULTS/env.txt"
    done
fi

if [ "${SHAPES:-0}" = 1 ]; then
    # One row per run (every run distinct) spread over few or many models: memory must not grow
    # with runs or models. Time and peak RSS of check in each format, pandas and wc -l beside.
    SHAPE_TABLE=$RESULTS/shapes.md
    echo "| rows | models | tool | median | peak RSS |" > "$SHAPE_TABLE"
    echo "|--:|--:|---|--:|--:|" >> "$SHAPE_TABLE"
    for shape in "200000 2 0" "200000 10 0" "200000 50 0" "200000 200 0" "40000 5 0" "1000000 50 1.1" "1000000 200 1.1"; do
        read -r n models zipf <<< "$shape"
        f=$DATA/shape_${n}_${models}_${zipf}.csv
        [ -s "$f" ] || python3 "$ROOT/bench/gen_codecarbon.py" "$n" "$f" --snapshots 1 --models "$models" --zipf "$zipf" --seed 13
        cat "$f" > /dev/null
        names=("check table" "check markdown" "check json" "ingest json" pandas python-csv "wc -l")
        cmds=(
            "$BIN check --policy $POLICY --format table $f"
            "$BIN check --policy $POLICY --format markdown $f"
            "$BIN check --policy $POLICY --format json $f"
            "$BIN ingest --format json $f"
            "$PY $ROOT/bench/pandas_check.py $f"
            "$PY $ROOT/bench/csv_check.py $f"
            "wc -l $f"
        )
        if [ -n "${BASELINE_BIN:-}" ]; then
            names+=("before: check markdown" "before: check json")
            cmds+=("$BASELINE_BIN check --policy $POLICY --format markdown $f"
                   "$BASELINE_BIN check --policy $POLICY --format json $f")
        fi
        echo "== $n rows, $models models (zipf $zipf)" >&2
        args=()
        for i in "${!cmds[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
        hyperfine -N -i --warmup 1 --runs 5 --export-json "$RESULTS/shape_${n}_${models}.json" "${args[@]}" >&2
        rss=()
        for c in "${cmds[@]}"; do
            # shellcheck disable=SC2086 # the commands are word lists without quoting
            rss+=("$(rss_mb $c)")
        done
        label=$models
        [ "$zipf" = 0 ] || label="$models (Zipf $zipf)"
        python3 - "$RESULTS/shape_${n}_${models}.json" "$n" "$label" "${rss[@]}" >> "$SHAPE_TABLE" <<'PY'
import json, statistics, sys
path, rows, models, *rss = sys.argv[1:]
for r, mb in zip(json.load(open(path))["results"], rss):
    med = statistics.median(r["times"])
    t = f"{med * 1000:.0f} ms" if med < 1 else f"{med:.2f} s"
    print(f"| {int(rows):,} | {models} | {r['command']} | {t} | {mb} MB |")
PY
    done
    echo
    cat "$SHAPE_TABLE"
fi

format_table() { # name generator pandas-script extension: eco2AI CSV or NDJSON records at scale
    local name=$1 generator=$2 script=$3 ext=$4
    local table=$RESULTS/$name.md
    echo "| rows | file | tool | median | mean ± σ | peak RSS | × pandas | × wc -l |" > "$table"
    echo "|--:|--:|---|--:|--:|--:|--:|--:|" >> "$table"
    for n in ${FORMAT_SIZES:-100000 1000000}; do
        f=$DATA/${name}_$n.$ext
        [ -s "$f" ] || python3 "$ROOT/bench/$generator" "$n" "$f"
        cat "$f" > /dev/null
        names=(carbon-gate pandas "wc -l")
        cmds=(
            "$BIN check --policy $POLICY --format markdown $f"
            "$PY $ROOT/bench/$script $f"
            "wc -l $f"
        )
        if [ -n "${BASELINE_BIN:-}" ]; then
            names+=("carbon-gate (baseline)")
            cmds+=("$BASELINE_BIN check --policy $POLICY --format markdown $f")
        fi
        echo "== $name: $n rows ($(du -h "$f" | cut -f1))" >&2
        args=()
        for i in "${!cmds[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
        # -i: a baseline that refuses the file (exit 2) is timed too.
        hyperfine -N -i --warmup 1 --runs 5 --export-json "$RESULTS/${name}_$n.json" "${args[@]}" >&2
        rss=()
        for c in "${cmds[@]}"; do
            # shellcheck disable=SC2086 # the commands are word lists without quoting
            rss+=("$(rss_mb $c)")
        done
        python3 - "$RESULTS/${name}_$n.json" "$n" "$(du -h "$f" | cut -f1)" "${rss[@]}" >> "$table" <<'PY'
import json, statistics, sys
path, rows, size, *rss = sys.argv[1:]
results = json.load(open(path))["results"]
meds = [statistics.median(r["times"]) for r in results]
pandas, wc = meds[1], meds[2]
def t(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
for r, med, mb in zip(results, meds, rss):
    print(f"| {int(rows):,} | {size} | {r['command']} | {t(med)} | {t(r['mean'])} ± {t(r['stddev'] or 0)} | {mb} MB | {med / pandas:.2f} | {med / wc:.1f} |")
PY
    done
    echo
    cat "$table"
}

if [ "${ECO2AI:-0}" = 1 ]; then
    # eco2AI 0.3.x CSV as eco2AI writes it, one row per run over four projects.
    format_table eco2ai gen_eco2ai.py pandas_eco2ai.py csv
fi

if [ "${RECORDS:-0}" = 1 ]; then
    # carbon-gate's own records, one JSON record per line, four models × three versions.
    format_table records gen_records.py pandas_records.py ndjson
fi

if [ "${LARGE:-0}" = 1 ]; then
    big=$DATA/large.csv
    echo "== >1 GB log (disk before: $(df -h --output=avail "$DATA" | tail -1))" >&2
    python3 "$ROOT/bench/gen_codecarbon.py" 2800000 "$big" --seed 11
    echo "large file: $(du -h "$big" | cut -f1) ($(stat -c %s "$big") bytes)" | tee -a "$RESULTS/env.txt"
    for c in "$BIN check --policy $POLICY --format markdown $big" "wc -l $big"; do
        # shellcheck disable=SC2086
        /usr/bin/time -v -o "$RESULTS/time.txt" $c >/dev/null 2>&1 || true
        grep -E "Elapsed|Maximum resident" "$RESULTS/time.txt" | sed "s|^\s*|${c%% *}: |" | tee -a "$RESULTS/env.txt"
    done
    rm -f "$big"
fi

if [ "${IF:-0}" = 1 ]; then
    # The IF CLI is installed outside the repository: $IF_DIR/node_modules/.bin/if-run
    # (mkdir -p $IF_DIR && cd $IF_DIR && npm install @grnsft/if@1). if-run 1.1.0 fails for
    # 1,000,000 observations ("WriteFileError: Invalid string length": its YAML text is longer
    # than a JavaScript string may be), so the default stops at 100,000.
    IF_DIR=${IF_DIR:-/tmp/if-work}
    IF_RUN=$IF_DIR/node_modules/.bin/if-run
    [ -x "$IF_RUN" ] || { echo "missing $IF_RUN (npm install @grnsft/if@1 in $IF_DIR)" >&2; exit 2; }
    IF_TABLE=$RESULTS/if.md
    {
        echo "| observations | output manifest | lines | if-run (compute + write) | carbon-gate check | speed-up | MB/s | carbon-gate peak RSS | wc -l |"
        echo "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    } >"$IF_TABLE"
    for n in ${IF_SIZES:-10000 100000}; do
        in=$DATA/if-$n.yml
        out=$DATA/if-$n.out.yaml
        [ -s "$in" ] || python3 "$ROOT/bench/gen_if.py" "$n" "$in"
        [ -s "$out" ] || "$IF_RUN" -m "$in" -o "$out" >/dev/null 2>&1
        grep -q '^  status: success' "$out" || { echo "if-run failed for $n observations" >&2; continue; }
        hyperfine -N --runs "${IF_RUNS:-3}" --export-json "$RESULTS/if-$n.json" \
            "$IF_RUN -m $in -o $DATA/if-$n.rerun.yaml" \
            "$BIN check --policy $POLICY --format markdown $out" \
            "wc -l $out" >&2
        med() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$RESULTS/if-$n.json" "$1"; }
        t_if=$(med 0); t_cg=$(med 1); t_wc=$(med 2)
        size=$(stat -c %s "$out")
        if_rss=$(rss_mb "$BIN" check --policy "$POLICY" --format markdown "$out")
        python3 - "$n" "$size" "$(wc -l <"$out")" "$t_if" "$t_cg" "$t_wc" "$if_rss" >>"$IF_TABLE" <<'PY'
import sys
n, size, lines, t_if, t_cg, t_wc, rss = sys.argv[1:]
size, t_if, t_cg, t_wc = int(size), float(t_if), float(t_cg), float(t_wc)
print(f"| {int(n):,} | {size / 1e6:.1f} MB | {int(lines):,} | {t_if:.2f} s | {t_cg:.3f} s "
      f"| {t_if / t_cg:.0f}x | {size / 1e6 / t_cg:.0f} | {rss} MB | {t_wc:.3f} s |")
PY
    done
    echo
    cat "$IF_TABLE"
fi

echo
cat "$TABLE"
echo
echo "(results in $RESULTS)"
