#!/bin/sh
# gnrt against the engines users pick instead, in one run (issue 16): libgnrt and XNNPACK dense
# (f32, and qs8/f16 when bench_sparse has --engines) in bench_sparse, and ONNX Runtime through
# bench/ort/ort.js on the ONNX exports of the dense baseline (fp32, int8) and of MODEL (fp32, int8).
#
#   scripts/bench-peers.sh MODEL.gnrt [options]
#
# Options: --out DIR (default build/peers), --rounds R (default 5), --runs N (timed runs per engine
#   and round, default 10), --warmup W (default 2), --sizes "48 224", --threads "1 2",
#   --accuracy-images N (default 10000, the whole test set), --calibration-images N (the int8
#   ONNX exports and bench_sparse's qs8, default 200), --no-int8-pruned (skip MODEL's int8 export), --build-dir DIR (default
#   build/release), --gn-convert PATH (use this gn-convert instead of the build dir's),
#   --int8-model M8.gnrt (MODEL quantized by gn-convert quantize: adds the gnrt-int8 engine, timed
#   in bench_sparse beside gnrt fp32, and its accuracy by gnrt eval),
#   --smoke (1 round, 1 run, warmup 0, size 48, 1 thread, 100 accuracy images, 16 calibration).
# Each round runs bench_sparse, then ort.js bench on every ONNX file, for every size and thread
# count; the order of the engines reverses every other round. Prints one table per (size,
# threads) and writes OUT/peers.json; raw outputs stay in OUT/raw. Exports are reused when newer
# than their source.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
me=bench-peers.sh
die() { echo "$me: error: $*" >&2; exit 1; }

MODEL=""; OUT=build/peers; ROUNDS=5; RUNS=10; WARMUP=2; SIZES="48 224"; THREADS="1 2"
ACC=10000; CALIB=200; INT8_PRUNED=1; BUILD=build/release; GNC=""; SMOKE=0; INT8_MODEL=""
need() { [ $# -ge 2 ] || die "option '$1' needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) need "$@"; OUT="$2"; shift ;;
    --rounds) need "$@"; ROUNDS="$2"; shift ;;
    --runs) need "$@"; RUNS="$2"; shift ;;
    --warmup) need "$@"; WARMUP="$2"; shift ;;
    --sizes) need "$@"; SIZES="$2"; shift ;;
    --threads) need "$@"; THREADS="$2"; shift ;;
    --accuracy-images) need "$@"; ACC="$2"; shift ;;
    --calibration-images) need "$@"; CALIB="$2"; shift ;;
    --no-int8-pruned) INT8_PRUNED=0 ;;
    --build-dir) need "$@"; BUILD="$2"; shift ;;
    --gn-convert) need "$@"; GNC="$2"; shift ;;
    --int8-model) need "$@"; INT8_MODEL="$2"; shift ;;
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "$me: error: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [ -z "$MODEL" ] || die "more than one model given ('$MODEL', '$1')"; MODEL="$1" ;;
  esac
  shift
done
if [ "$SMOKE" = 1 ]; then
  ROUNDS=1; RUNS=1; WARMUP=0; SIZES=48; THREADS=1; ACC=100; CALIB=16
fi
[ -n "$MODEL" ] || die "usage: $me MODEL.gnrt [options] (see --help)"
[ -f "$MODEL" ] || die "model '$MODEL' not found"
case "$MODEL" in *.gnrt) ;; *) die "model '$MODEL' is not a .gnrt file" ;; esac
for pair in "rounds:$ROUNDS" "runs:$RUNS" "warmup:$WARMUP" "accuracy-images:$ACC" \
            "calibration-images:$CALIB"; do
  v=${pair#*:}
  case "$v" in ''|*[!0-9]*) die "--${pair%%:*} needs a non-negative integer, got '$v'" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$RUNS" -ge 1 ] && [ "$ACC" -ge 1 ] || die "--rounds, --runs and --accuracy-images must be at least 1"
for v in $SIZES $THREADS; do
  case "$v" in ''|*[!0-9]*|0) die "--sizes and --threads take positive integers, got '$v'" ;; esac
done
[ -n "$SIZES" ] && [ -n "$THREADS" ] || die "--sizes and --threads must not be empty"
case "$OUT$MODEL" in *" "*) die "paths with spaces are not supported (--out '$OUT', model '$MODEL')" ;; esac
MODEL_ABS=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
INT8_ABS=""
if [ -n "$INT8_MODEL" ]; then
  [ -f "$INT8_MODEL" ] || die "--int8-model '$INT8_MODEL' not found"
  case "$INT8_MODEL" in *.gnrt) ;; *) die "--int8-model '$INT8_MODEL' is not a .gnrt file" ;; esac
  case "$INT8_MODEL" in *" "*) die "paths with spaces are not supported (--int8-model '$INT8_MODEL')" ;; esac
  INT8_ABS=$(cd "$(dirname "$INT8_MODEL")" && pwd)/$(basename "$INT8_MODEL")
fi
DENSE_PT=models/googlenet-fmnist-48-dense-fp16.pt
[ -f "$DENSE_PT" ] || die "$DENSE_PT is missing (the dense baseline)"
[ -d /usr/share/datasets/fashion-mnist ] || die "Fashion-MNIST not found in /usr/share/datasets/fashion-mnist"
command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh)"
ORTJS="$ROOT/bench/ort/ort.js"
node -e "require('$ROOT/bench/ort/node_modules/onnxruntime-node')" 2>/dev/null ||
  die "onnxruntime-node is missing in bench/ort/node_modules (scripts/install-deps.sh)"

# --- build what is missing
case "$BUILD" in /*) BUILD_ABS=$BUILD ;; *) BUILD_ABS=$ROOT/$BUILD ;; esac
GNRT="$BUILD_ABS/tools/gnrt"
BENCH="$BUILD_ABS/bench/bench_sparse"
[ -n "$GNC" ] || GNC="$BUILD_ABS/converter/gn-convert"
if [ ! -x "$GNRT" ] || [ ! -x "$BENCH" ] || [ ! -x "$GNC" ]; then
  echo "== build ($BUILD)"
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    if [ "$BUILD" = build/release ]; then cmake --preset release
    else cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release; fi
  fi
  cmake --build "$BUILD" --target gn-convert gnrt bench_sparse || die "build failed"
fi
for b in "$GNRT" "$BENCH" "$GNC"; do [ -x "$b" ] || die "'$b' is missing after the build"; done

mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
export OMP_WAIT_POLICY=passive

# run LOG CMD...: runs CMD with stdout to LOG and stderr to LOG.err; a failure names the
# command and shows the end of its stderr.
run() {
  log=$1; shift
  if ! "$@" > "$log" 2> "$log.err"; then
    echo "$me: error: failed: $*" >&2
    tail -5 "$log.err" >&2
    exit 1
  fi
}

# --- ONNX exports (reused when newer than their source)
fresh() { [ -f "$1" ] && [ "$1" -nt "$2" ]; }
STEM=$(basename "$MODEL" .gnrt)
DENSE_GNRT="$OUT/googlenet-fmnist-48-dense.gnrt"
echo "== exports ($OUT)"
if ! fresh "$DENSE_GNRT" "$DENSE_PT"; then
  run "$OUT/raw/export-dense.txt" "$GNC" export "$DENSE_PT" -o "$DENSE_GNRT" --skip-test-eval
fi
# export_onnx SRC.gnrt DST.onnx [--int8]
export_onnx() {
  fresh "$2" "$1" && return 0
  if [ "${3:-}" = --int8 ]; then
    run "$OUT/raw/export-$(basename "$2").txt" "$GNC" export-onnx --model "$1" --output "$2" \
      --int8 --calibration-images "$CALIB"
  else
    run "$OUT/raw/export-$(basename "$2").txt" "$GNC" export-onnx --model "$1" --output "$2"
  fi
}
ONNX="$OUT/googlenet-fmnist-48-dense-fp32.onnx $OUT/googlenet-fmnist-48-dense-int8.onnx $OUT/$STEM-fp32.onnx"
export_onnx "$DENSE_GNRT" "$OUT/googlenet-fmnist-48-dense-fp32.onnx"
export_onnx "$DENSE_GNRT" "$OUT/googlenet-fmnist-48-dense-int8.onnx" --int8
export_onnx "$MODEL_ABS" "$OUT/$STEM-fp32.onnx"
if [ "$INT8_PRUNED" = 1 ]; then
  export_onnx "$MODEL_ABS" "$OUT/$STEM-int8.onnx" --int8
  ONNX="$ONNX $OUT/$STEM-int8.onnx"
fi

# --- which XNNPACK engines this bench_sparse has
ENGINES=""; BS_CALIB=""
if "$BENCH" --help 2>&1 | grep -q -- '--engines'; then
  ENGINES="gnrt,xnnpack-f32,xnnpack-qs8"
  "$BENCH" --help 2>&1 | grep -q 'xnnpack-f16' && ENGINES="$ENGINES,xnnpack-f16"
  # qs8 is calibrated on as many Fashion-MNIST training images as the ONNX int8 exports.
  BS_CALIB=""
  "$BENCH" --help 2>&1 | grep -q -- '--calibration-images' && BS_CALIB="--calibration-images $CALIB"
  echo "== bench_sparse engines: $ENGINES $BS_CALIB"
else
  echo "== bench_sparse has no --engines: gnrt and XNNPACK dense f32 only"
fi

# Each engine's runs back to back after its warm-up (--block), as ort.js times ORT in its own
# process: without it bench_sparse alternates its engines run by run, and each run starts with the
# caches the other engines left.
BLOCK=""
"$BENCH" --help 2>&1 | grep -q -- '--block' && BLOCK=1

# --- timing, interleaved in rounds
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ $r -le "$ROUNDS" ]; do
  echo "== round $r/$ROUNDS"
  for size in $SIZES; do
    for t in $THREADS; do
      gap=0; [ "$t" -gt 1 ] && gap=2
      order="bench_sparse $ONNX"
      if [ $((r % 2)) -eq 0 ]; then
        order=$(for x in $order; do echo "$x"; done | sed '1!G;h;$!d')
      fi
      for e in $order; do
        if [ "$e" = bench_sparse ]; then
          set -- --model "$MODEL_ABS" --size "$size" --threads "$t" --runs "$RUNS" \
            --warmup "$WARMUP" --gap-ms "$gap" --json
          [ -n "$ENGINES" ] && set -- "$@" --engines "$ENGINES" $BS_CALIB
          [ -n "$INT8_ABS" ] && set -- "$@" --int8-model "$INT8_ABS"
          [ -n "$BLOCK" ] && set -- "$@" --block "$RUNS"
          run "$OUT/raw/bs-$size-t$t-r$r.json" "$BENCH" "$@"
        else
          run "$OUT/raw/ort-$(basename "$e" .onnx)-$size-t$t-r$r.json" node "$ORTJS" bench \
            --model "$e" --size "$size" --threads "$t" --runs "$RUNS" --warmup "$WARMUP" \
            --gap-ms "$gap" --json
        fi
      done
    done
  done
  r=$((r + 1))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- accuracies (each model in its own engine, at the model's default size)
echo "== accuracies ($ACC test images each)"
run "$OUT/raw/acc-gnrt.txt" "$GNRT" eval "$MODEL_ABS" --fashion-mnist --limit "$ACC" --threads 2
rm -f "$OUT/raw/acc-gnrt-int8.txt"
if [ -n "$INT8_ABS" ]; then
  run "$OUT/raw/acc-gnrt-int8.txt" "$GNRT" eval "$INT8_ABS" --fashion-mnist --limit "$ACC" --threads 2
fi
for e in $ONNX; do
  run "$OUT/raw/acc-ort-$(basename "$e" .onnx).txt" node "$ORTJS" eval --model "$e" \
    --limit "$ACC" --threads 2
done
if [ -n "$ENGINES" ]; then
  run "$OUT/raw/acc-bench_sparse.txt" "$BENCH" --model "$MODEL_ABS" --engines "$ENGINES" \
    $BS_CALIB --accuracy "$ACC"
fi

# --- the tables and the JSON
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
FLAGS=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | tr ' ' '\n' |
  grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|avx512_fp16|amx_int8|asimd|asimdhp|fphp|asimddp|i8mm|sve|sve2)$' |
  tr '\n' ' ')
export OUT MODEL_ABS INT8_ABS ONNX SIZES THREADS ROUNDS RUNS WARMUP ACC CPU FLAGS LOAD_BEFORE LOAD_AFTER ENGINES SMOKE
python3 - <<'PY' || die "the report failed (raw outputs in $OUT/raw)"
import glob, json, os, re, statistics, sys

env = os.environ
out, model = env["OUT"], env["MODEL_ABS"]
onnx = env["ONNX"].split()
sizes, threads = [int(s) for s in env["SIZES"].split()], [int(t) for t in env["THREADS"].split()]
rounds = int(env["ROUNDS"])
stem = os.path.basename(model)[:-len(".gnrt")]


def fail(message):
    sys.exit(f"bench-peers.sh: error: {message}")


def load_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError) as e:
        fail(f"cannot parse {path}: {e}")


def accuracy_line(path):
    text = open(path).read()
    m = re.findall(r"^accuracy=([\d.]+) n=(\d+)$", text, re.M)
    if not m:
        fail(f"no 'accuracy=... n=...' line in {path}")
    return {"accuracy": float(m[-1][0]), "n": int(m[-1][1])}


def engine_name(key):
    """bench_sparse's engine key -> the table's name (libgnrt, xnnpack_dense -> gnrt, xnnpack-f32)."""
    k = key.lower().replace("_", "-")
    if k.startswith("lib"):
        k = k[3:]
    return "xnnpack-f32" if k == "xnnpack-dense" else k


PRECISION = {"gnrt": "fp32", "gnrt-int8": "int8", "xnnpack-f32": "fp32", "xnnpack-qs8": "int8 (qs8)", "xnnpack-f16": "fp16"}

accuracy = {}
gnrt_acc = accuracy_line(f"{out}/raw/acc-gnrt.txt")
accuracy[("gnrt", stem)] = gnrt_acc
if env.get("INT8_ABS"):
    accuracy[("gnrt-int8", stem)] = accuracy_line(f"{out}/raw/acc-gnrt-int8.txt")
bs_acc = f"{out}/raw/acc-bench_sparse.txt"
if os.path.exists(bs_acc):
    for name, acc, n in re.findall(r"^accuracy_(\S+)=([\d.]+) n=(\d+)", open(bs_acc).read(), re.M):
        e = engine_name(name)
        if e not in ("gnrt", "gnrt-int8"):
            accuracy[(e, stem)] = {"accuracy": float(acc), "n": int(n)}

results = []
for size in sizes:
    for t in threads:
        rows = {}  # (engine, model, precision) -> row

        def add(engine, model_name, precision, runs_ms, per_round, extra=None):
            row = rows.setdefault((engine, model_name, precision), {
                "engine": engine, "model": model_name, "precision": precision,
                "runs_ms": [], "round_medians_ms": []})
            row["runs_ms"] += runs_ms
            row["round_medians_ms"].append(per_round)
            if extra:
                row.update(extra)

        for r in range(1, rounds + 1):
            path = f"{out}/raw/bs-{size}-t{t}-r{r}.json"
            bs = load_json(path)
            engines = bs.get("engines")
            if isinstance(engines, list):  # [{"name": ..., "median_ms": ...}, ...]
                engines = {e.get("name", "?"): e for e in engines}
            if not isinstance(engines, dict):
                fail(f"{path}: no 'engines' object")
            for key, e in engines.items():
                name = engine_name(key)
                if not (isinstance(e, dict) and e.get("runs_ms") and "median_ms" in e):
                    # An engine this CPU lacks (f16) may be listed without timings: leave it out.
                    print(f"bench-peers.sh: note: {path}: engine '{key}' has no timings, skipped",
                          file=sys.stderr)
                    continue
                add(name, stem, PRECISION.get(name, "?"), e["runs_ms"], e["median_ms"],
                    {"isa": bs.get("isa")} if name == "gnrt" else None)
            for path in onnx:
                base = os.path.basename(path)[:-len(".onnx")]
                o = load_json(f"{out}/raw/ort-{base}-{size}-t{t}-r{r}.json")
                model_name = re.sub(r"-(fp32|int8)$", "", base)
                add(f"ort-{o['ort_version']}", model_name, o["precision"], o["runs_ms"],
                    o["median_ms"], {"onnx": path})
        if ("gnrt", stem, "fp32") not in rows:
            fail(f"no gnrt timing at size {size}, {t} thread(s)")
        for row in rows.values():
            row["median_ms"] = statistics.median(row["runs_ms"])
            row["min_ms"] = min(row["runs_ms"])
        gnrt_median = rows[("gnrt", stem, "fp32")]["median_ms"]
        for (engine, model_name, _), row in rows.items():
            row["ratio_to_gnrt"] = row["median_ms"] / gnrt_median
            if engine.startswith("ort-"):
                acc = accuracy_line(f"{out}/raw/acc-ort-{os.path.basename(row['onnx'])[:-5]}.txt")
            else:
                acc = accuracy.get((engine, model_name))
            row["accuracy"] = acc["accuracy"] if acc else None
            row["accuracy_n"] = acc["n"] if acc else None
        results.append({"size": size, "threads": t, "rows": list(rows.values())})

print(f"\nCPU: {env['CPU']} ({os.cpu_count()} logical CPUs); flags: {env['FLAGS'].strip() or '-'}")
print(f"load average (1/5/15 min): before {env['LOAD_BEFORE']}, after {env['LOAD_AFTER']}")
print(f"{rounds} round(s) x {env['RUNS']} run(s) per engine (warmup {env['WARMUP']}), "
      f"medians of all runs; ratio = engine median / gnrt median; accuracy: Fashion-MNIST test, "
      f"model's default size, in its own engine")
for block in results:
    print(f"\n== {block['size']}x{block['size']}, {block['threads']} thread(s)")
    print(f"{'engine':<16} {'model':<34} {'precision':<11} {'median_ms':>10} {'min_ms':>9} "
          f"{'ratio':>7} {'accuracy':>9}")
    for row in sorted(block["rows"], key=lambda x: x["median_ms"]):
        acc = f"{row['accuracy']:.4f}" if row["accuracy"] is not None else "-"
        print(f"{row['engine']:<16} {row['model']:<34} {row['precision']:<11} "
              f"{row['median_ms']:>10.3f} {row['min_ms']:>9.3f} {row['ratio_to_gnrt']:>7.2f} {acc:>9}")

doc = {"tool": "bench-peers.sh", "model": model, "cpu": env["CPU"], "cpu_flags": env["FLAGS"].split(),
       "logical_cpus": os.cpu_count(), "loadavg_before": env["LOAD_BEFORE"],
       "loadavg_after": env["LOAD_AFTER"], "rounds": rounds, "runs": int(env["RUNS"]),
       "warmup": int(env["WARMUP"]), "accuracy_images": int(env["ACC"]),
       "bench_sparse_engines": env["ENGINES"] or "gnrt,xnnpack-f32 (no --engines)",
       "int8_model": env.get("INT8_ABS") or None,
       "smoke": env["SMOKE"] == "1", "results": results}
tmp = f"{out}/.peers.json.tmp{os.getpid()}"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1)
os.replace(tmp, f"{out}/peers.json")
print(f"\nJSON: {out}/peers.json")
PY
