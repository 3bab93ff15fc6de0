#!/bin/sh
# The main job: prune GoogLeNet on Fashion-MNIST, retrain it, export it to .gnrt (float32, float16,
# int8), check each in libgnrt, benchmark float32 and int8 against XNNPACK dense, and print the
# results table (docs/results.md).
#
#   scripts/pipeline.sh                  from the shipped dense baseline (models/), about 15-20 min
#                                        on 2 cores: one retraining epoch that prunes gradually to
#                                        16x (fmnist-quick-16x.json); also checks the shipped
#                                        pruned model (models/googlenet-fmnist-16x.gnrt)
#   scripts/pipeline.sh --from-scratch   trains the dense baseline too (12 epochs), runs the
#                                        trade-off recipe (8x..32x, one epoch each) and fine-tunes
#                                        its 16x snapshot one more epoch, which is how the shipped
#                                        model was made: about 4.5 hours on 2 cores
# Options: --out DIR (default pipeline-out), --threads N (torch threads, default 2),
#          --runs N (benchmark runs, default 30), --build-dir DIR (default build/release).
# Every step is resumable: rerunning the same command continues from the last checkpoint.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=pipeline-out
THREADS=2
RUNS=30
BUILD=build/release
SCRATCH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from-scratch) SCRATCH=1 ;;
    --out) OUT="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --build-dir) BUILD="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "pipeline.sh: error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$THREADS" in ''|*[!0-9]*) echo "pipeline.sh: error: --threads needs a number" >&2; exit 2 ;; esac
case "$RUNS" in ''|*[!0-9]*) echo "pipeline.sh: error: --runs needs a number" >&2; exit 2 ;; esac

START=$(date +%s)
step() {
  now=$(date +%s)
  printf '\n== [%s elapsed] %s\n' "$(( (now - START) / 60 ))m$(( (now - START) % 60 ))s" "$*"
}

DENSE_SHIPPED=models/googlenet-fmnist-48-dense-fp16.pt
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "pipeline.sh: error: Fashion-MNIST not found in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)" >&2
  exit 1
fi

step "build ($BUILD)"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  if [ "$BUILD" = build/release ]; then
    cmake --preset release
  else
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
fi
cmake --build "$BUILD" --target gn-convert gnrt bench_sparse
GNC="$ROOT/$BUILD/converter/gn-convert"
GNRT="$ROOT/$BUILD/tools/gnrt"
BENCH="$ROOT/$BUILD/bench/bench_sparse"
mkdir -p "$OUT"
export OMP_WAIT_POLICY=passive

if [ "$SCRATCH" = 1 ]; then
  step "train the dense baseline from scratch (12 epochs, about 2.5-3 hours on 2 cores)"
  resume=""
  [ -f "$OUT/dense/checkpoint.pt" ] && resume="--resume"
  if [ ! -f "$OUT/dense/train-result.json" ]; then
    "$GNC" train --out "$OUT/dense" $resume --epochs 12 --lr 0.05 --warmup-epochs 0.3 --batch 64 \
      --seed 1 --threads "$THREADS" --checkpoint-steps 150 --progress-seconds 30
  fi
  "$GNC" pack "$OUT/dense/checkpoint.pt" -o "$OUT/dense-fp16.pt" --float16
  DENSE="$OUT/dense-fp16.pt"
  RECIPE=converter/recipes/fmnist-global-tradeoff.json
else
  if [ ! -f "$DENSE_SHIPPED" ]; then
    echo "pipeline.sh: error: $DENSE_SHIPPED is missing (use --from-scratch)" >&2
    exit 1
  fi
  DENSE="$DENSE_SHIPPED"
  RECIPE=converter/recipes/fmnist-quick-16x.json
fi

step "dense baseline: test accuracy ($DENSE)"
"$GNC" eval "$DENSE" --json --threads "$THREADS" > "$OUT/dense-eval.json"
grep '"accuracy"' "$OUT/dense-eval.json"

# prune_run DIR FROM RECIPE: gn-convert prune into DIR, resumed when DIR has a checkpoint, skipped
# when DIR has its final report.
prune_run() {
  [ -f "$1/report.json" ] && return 0
  if [ -f "$1/checkpoint.pt" ]; then
    "$GNC" prune --resume --recipe "$3" --out "$1" --threads "$THREADS" --progress-seconds 30
  else
    "$GNC" prune --from "$2" --recipe "$3" --out "$1" --threads "$THREADS" --progress-seconds 30
  fi
}

step "prune and retrain ($RECIPE)"
prune_run "$OUT/pruned" "$DENSE" "$RECIPE"
PRUNED="$OUT/pruned/checkpoint.pt"
REPORT="$OUT/pruned/report.json"
if [ "$SCRATCH" = 1 ]; then
  # The shipped model: the 16x snapshot (iteration 2) of the trade-off run, one more epoch.
  step "fine-tune the 16x snapshot (converter/recipes/fmnist-finetune-16x.json)"
  prune_run "$OUT/finetune" "$OUT/pruned/iteration-2.pt" converter/recipes/fmnist-finetune-16x.json
  PRUNED="$OUT/finetune/checkpoint.pt"
  REPORT="$OUT/finetune/report.json"
fi

step "export to .gnrt (float32, and a float16 variant) and verify against LibTorch"
"$GNC" export "$PRUNED" -o "$OUT/model.gnrt" --threads "$THREADS"
"$GNC" export "$PRUNED" -o "$OUT/model-fp16.gnrt" --float16 --skip-test-eval --threads "$THREADS"
"$GNC" export "$DENSE" -o "$OUT/dense.gnrt" --encoding dense --skip-test-eval --verify-images 0 \
  --threads "$THREADS" > /dev/null
"$GNRT" info --json "$OUT/model.gnrt" > "$OUT/model-info.json"

step "quantize to int8 (gn-convert quantize: 1000 calibration images; accuracy by gnrt eval below)"
"$GNC" quantize "$OUT/model.gnrt" --fashion-mnist /usr/share/datasets/fashion-mnist \
  -o "$OUT/model-int8.gnrt" --eval-images 0 --threads "$THREADS"

step "test accuracy in libgnrt (gnrt eval --fashion-mnist)"
"$GNRT" eval "$OUT/model.gnrt" --fashion-mnist 2>/dev/null | tee "$OUT/gnrt-eval.txt"
"$GNRT" eval "$OUT/model-fp16.gnrt" --fashion-mnist 2>/dev/null | tee "$OUT/gnrt-eval-fp16.txt"
ACC=$(sed -n 's/^accuracy=\([0-9.]*\) .*/\1/p' "$OUT/gnrt-eval.txt")
"$GNRT" eval "$OUT/model-int8.gnrt" --fashion-mnist 2>/dev/null | tee "$OUT/gnrt-eval-int8.txt"
ACC16=$(sed -n 's/^accuracy=\([0-9.]*\) .*/\1/p' "$OUT/gnrt-eval-fp16.txt")
ACC8=$(sed -n 's/^accuracy=\([0-9.]*\) .*/\1/p' "$OUT/gnrt-eval-int8.txt")
SHIPPED=models/googlenet-fmnist-16x.gnrt
SHIPPED_ACC=""
if [ "$SCRATCH" = 0 ] && [ -f "$SHIPPED" ]; then
  step "the shipped pruned model in libgnrt ($SHIPPED)"
  "$GNRT" eval "$SHIPPED" --fashion-mnist 2>/dev/null | tee "$OUT/gnrt-eval-shipped.txt"
  SHIPPED_ACC=$(sed -n 's/^accuracy=\([0-9.]*\) .*/\1/p' "$OUT/gnrt-eval-shipped.txt")
fi

step "benchmark: libgnrt fp32 and int8 vs XNNPACK dense, 1 thread, at 48x48 and 224x224 ($RUNS runs each)"
for s in 48 224; do
  "$BENCH" --model "$OUT/model.gnrt" --int8-model "$OUT/model-int8.gnrt" --size "$s" --threads 1 \
    --runs "$RUNS" --json > "$OUT/bench-$s.json"
done

step "results"
{
  # printf, not echo: dash's echo would expand the backslash escapes inside the JSON strings.
  printf '{\n'
  printf '"dense_eval": %s,\n' "$(cat "$OUT/dense-eval.json")"
  printf '"prune_report": %s,\n' "$(cat "$REPORT")"
  printf '"gnrt_info": %s,\n' "$(cat "$OUT/model-info.json")"
  printf '"gnrt_eval_accuracy": %s,\n' "$ACC"
  printf '"gnrt_eval_accuracy_fp16": %s,\n' "$ACC16"
  printf '"gnrt_eval_accuracy_int8": %s,\n' "$ACC8"
  printf '"int8_gnrt_bytes": %s,\n' "$(wc -c < "$OUT/model-int8.gnrt")"
  if [ -n "$SHIPPED_ACC" ]; then
    printf '"shipped_gnrt_eval": {"file": "%s", "accuracy": %s},\n' "$SHIPPED" "$SHIPPED_ACC"
  fi
  printf '"fp16_gnrt_bytes": %s,\n' "$(wc -c < "$OUT/model-fp16.gnrt")"
  printf '"dense_gnrt_bytes": %s,\n' "$(wc -c < "$OUT/dense.gnrt")"
  printf '"bench_train_size": %s,\n' "$(cat "$OUT/bench-48.json")"
  printf '"bench_224": %s\n' "$(cat "$OUT/bench-224.json")"
  # The trade-off table of the full run (scripts/tradeoff.sh), committed in results/.
  if [ "$SCRATCH" = 0 ] && [ -f results/tradeoff-rows.json ]; then
    printf ', "tradeoff": %s\n' "$(cat results/tradeoff-rows.json)"
  fi
  printf '}\n'
} > "$OUT/manifest.json"
"$GNC" results "$OUT/manifest.json" -o "$OUT/results.md"
cat "$OUT/results.md"
now=$(date +%s)
echo
echo "pipeline.sh: done in $(( (now - START) / 60 )) min; outputs in $OUT/ (results.md, model.gnrt, pruned/report.txt)"
