#!/bin/sh
# Trade-off rows from prune runs: every snapshot iteration-<i>.pt of a run (recipes with
# "snapshots": true), or the run's final checkpoint.pt and report.json when it has no snapshots,
# is exported to .gnrt (verified against LibTorch) and benchmarked at 224x224, one thread,
# against XNNPACK dense; the rows go to a JSON array for `gn-convert results`.
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
  snaps=$(ls "$dir"/iteration-*.json 2>/dev/null || true)
  [ -n "$snaps" ] || snaps="$dir/report.json"
  for snap in $snaps; do
    [ -f "$snap" ] || { echo "tradeoff.sh: error: $dir has neither snapshots nor report.json" >&2; rm -f "$TMP"; exit 1; }
    ckpt="${snap%.json}.pt"
    gnrt="${snap%.json}.gnrt"
    if [ "$snap" = "$dir/report.json" ]; then
      ckpt="$dir/checkpoint.pt"
      gnrt="$dir/model.gnrt"
    fi
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
