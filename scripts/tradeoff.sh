#!/bin/sh
# Trade-off rows from trade-off prune runs (recipes with "snapshots": true): every snapshot
# iteration-<i>.pt is exported to .gnrt (verified against LibTorch) and benchmarked at 224x224,
# one thread, against XNNPACK dense; the rows go to a JSON array for `gn-convert results`.
#
#   scripts/tradeoff.sh OUT.json LABEL=RUN_DIR [LABEL=RUN_DIR ...]
#   e.g. scripts/tradeoff.sh results/tradeoff-rows.json std=converter-runs/std cost=converter-runs/cost
# Environment: BUILD (default build/release), RUNS (benchmark runs, default 20).
set -eu
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build/release}"
RUNS="${RUNS:-20}"
if [ $# -lt 2 ]; then
  echo "usage: scripts/tradeoff.sh OUT.json LABEL=RUN_DIR [LABEL=RUN_DIR ...]" >&2
  exit 2
fi
OUT_JSON="$1"
shift
GNC="$BUILD/converter/gn-convert"
BENCH="$BUILD/bench/bench_sparse"
for tool in "$GNC" "$BENCH"; do
  [ -x "$tool" ] || { echo "tradeoff.sh: error: $tool not built" >&2; exit 1; }
done
TMP="$OUT_JSON.tmp"
echo "[" > "$TMP"
first=1
for spec in "$@"; do
  label="${spec%%=*}"
  dir="${spec#*=}"
  [ -d "$dir" ] || { echo "tradeoff.sh: error: $dir is not a directory" >&2; rm -f "$TMP"; exit 1; }
  for snap in "$dir"/iteration-*.json; do
    [ -f "$snap" ] || continue
    ckpt="${snap%.json}.pt"
    gnrt="${snap%.json}.gnrt"
    echo "== $label: $snap" >&2
    "$GNC" export "$ckpt" -o "$gnrt" --skip-test-eval >&2
    bench=$("$BENCH" --model "$gnrt" --size 224 --threads 1 --runs "$RUNS" --json)
    [ $first = 1 ] || echo "," >> "$TMP"
    first=0
    printf '{"label": "%s", "snapshot": %s, "bench_224": %s}\n' "$label" "$(cat "$snap")" "$bench" >> "$TMP"
  done
done
echo "]" >> "$TMP"
mv "$TMP" "$OUT_JSON"
echo "tradeoff.sh: wrote $OUT_JSON" >&2
