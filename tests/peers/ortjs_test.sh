#!/bin/sh
# bench/ort/ort.js on a tiny generated ONNX net: run, bench (text and JSON), ops (with
# --save-optimized), eval against NumPy's independent predictions (resize, normalization and
# accuracy), and clear errors with exit 1 for bad inputs. Fails (never skips) when node or
# onnxruntime-node is missing.
#   ortjs_test.sh NODE ORT_JS PYTHON MAKE_TINY_ONNX_PY WORKDIR
set -u
NODE=$1; ORTJS=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); PYTHON=$3; MAKE=$4; W=$5
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

rm -rf "$W"; mkdir -p "$W" || exit 1
"$NODE" -e "require('$(dirname "$ORTJS")/node_modules/onnxruntime-node')" ||
  { echo "FAIL: onnxruntime-node cannot be loaded with '$NODE' (scripts/install-deps.sh)"; exit 1; }
"$PYTHON" "$MAKE" "$W/tiny" || { echo "FAIL: $MAKE did not run (python3-onnx, numpy?)"; exit 1; }
M=$W/tiny/tiny.onnx

# last_line EXPECTED CMD...: CMD succeeds and its last stdout line is EXPECTED.
last_line() {
  want=$1; shift
  got=$("$@" 2> "$W/stderr" | tail -1)
  if [ "$got" = "$want" ]; then ok "$* -> $got"; else bad "$* -> '$got', want '$want'"; cat "$W/stderr"; fi
}
# fails_with TEXT CMD...: CMD exits 1 and its stderr holds "ort.js: ...TEXT".
fails_with() {
  want=$1; shift
  "$@" > /dev/null 2> "$W/stderr"; rc=$?
  if [ $rc -eq 1 ] && grep -q "^ort.js: .*$want" "$W/stderr"; then ok "error: $(head -1 "$W/stderr")"
  else bad "$* exited $rc with '$(cat "$W/stderr")', want exit 1 and '$want'"; fi
}

# run: the documented interface other tests use.
"$PYTHON" -c "import numpy; numpy.ones(48*48, '<f4').tofile('$W/in.f32')"
if "$NODE" "$ORTJS" run --model "$M" --input "$W/in.f32" --shape 1,1,48,48 --output "$W/out.f32" &&
   [ "$(wc -c < "$W/out.f32")" -eq 40 ]; then ok "run writes 10 floats"; else bad "run"; fi

# bench: text, JSON, --save-optimized, and ops on both graphs.
out=$("$NODE" "$ORTJS" bench --model "$M" --size 48 --runs 3 --warmup 1 | tail -1)
echo "$out" | grep -Eq '^median_ms=[0-9.]+ min_ms=[0-9.]+ max_ms=[0-9.]+ runs=3$' &&
  ok "bench text: $out" || bad "bench text: '$out'"
"$NODE" "$ORTJS" bench --model "$M" --size 224 --threads 2 --runs 4 --warmup 0 --json \
  --save-optimized "$W/optimized.onnx" > "$W/bench.json" 2> "$W/stderr"
"$PYTHON" - "$W/bench.json" <<'PY' && ok "bench JSON" || bad "bench JSON: $(cat "$W/bench.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ort_version"] == "1.30.0" and d["precision"] == "fp32", d
assert d["input_shape"] == [1, 1, 224, 224] and d["threads"] == 2 and len(d["runs_ms"]) == 4, d
assert sorted(d["runs_ms"])[0] == d["min_ms"] and d["min_ms"] <= d["median_ms"] <= d["max_ms"], d
PY
"$NODE" "$ORTJS" ops --model "$M" > "$W/ops.txt" 2>&1
grep -q '^     2 Conv$' "$W/ops.txt" && grep -q '^     1 Gemm$' "$W/ops.txt" &&
  grep -q '^meta gnrt.precision=fp32$' "$W/ops.txt" && grep -q 'nodes=8$' "$W/ops.txt" &&
  ok "ops lists 8 nodes" || bad "ops: $(cat "$W/ops.txt")"
if [ -s "$W/optimized.onnx" ] && "$NODE" "$ORTJS" ops --model "$W/optimized.onnx" --json > "$W/opt.json"; then
  ok "ops on the optimized graph: $(cat "$W/opt.json" | cut -c1-200)"
else bad "--save-optimized / ops on it"; fi

# eval: the default Fashion-MNIST path, NumPy's accuracy; its predictions as labels give 1.0;
# the preprocessed tensor of image 0 equals NumPy's bit for bit.
last_line "$(cat "$W/tiny/expected.txt")" "$NODE" "$ORTJS" eval --model "$M" --limit 100
last_line "accuracy=1.0000 n=100" "$NODE" "$ORTJS" eval --model "$M" --images "$W/tiny/images.gz" \
  --labels "$W/tiny/predicted-labels.gz" --dump-input "$W/input0.f32"
cmp "$W/input0.f32" "$W/tiny/expected-input0.f32" && ok "input tensor of image 0 matches NumPy" ||
  bad "eval --dump-input differs from NumPy's resize + normalization"
last_line "accuracy=1.0000 n=100" "$NODE" "$ORTJS" eval --model "$M" --images "$W/tiny/images.gz" \
  --labels "$W/tiny/predicted-labels.gz" --threads 2
out=$("$NODE" "$ORTJS" eval --model "$M" --limit 5 --size 224 2>/dev/null | tail -1)
echo "$out" | grep -Eq '^accuracy=0\.[0-9]{4} n=5$|^accuracy=1\.0000 n=5$' && ok "eval at 224: $out" ||
  bad "eval --size 224: '$out'"

# errors
"$PYTHON" - "$W" <<'PY'
import gzip, struct, sys
w = sys.argv[1]
gzip.open(f"{w}/badmagic.gz", "wb").write(struct.pack(">IIII", 0x804, 1, 28, 28) + bytes(784))
gzip.open(f"{w}/short.gz", "wb").write(struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(784))
gzip.open(f"{w}/labels3.gz", "wb").write(struct.pack(">II", 0x801, 3) + bytes(3))
gzip.open(f"{w}/labels-big.gz", "wb").write(struct.pack(">II", 0x801, 100) + bytes([12]) * 100)
open(f"{w}/junk.gz", "wb").write(b"\x1f\x8bnot gzip at all")
open(f"{w}/notonnx.onnx", "wb").write(b"\xff" * 64)
PY
L=$W/tiny/predicted-labels.gz; I=$W/tiny/images.gz
fails_with "no metadata 'gnrt.mean'" "$NODE" "$ORTJS" eval --model "$W/tiny/tiny-nometa.onnx" --limit 5
fails_with "IDX magic 0x00000804, expected 0x00000803" "$NODE" "$ORTJS" eval --model "$M" --images "$W/badmagic.gz" --labels "$L"
fails_with "IDX magic 0x00000801, expected 0x00000803" "$NODE" "$ORTJS" eval --model "$M" --images "$L" --labels "$L"
fails_with "needs 1584" "$NODE" "$ORTJS" eval --model "$M" --images "$W/short.gz" --labels "$L"
fails_with "has 100 images but .* has 3 labels" "$NODE" "$ORTJS" eval --model "$M" --images "$I" --labels "$W/labels3.gz"
fails_with "label 12 of item 0 is out of range for a model with 10 outputs" "$NODE" "$ORTJS" eval --model "$M" --images "$I" --labels "$W/labels-big.gz"
fails_with "bad gzip data" "$NODE" "$ORTJS" eval --model "$M" --images "$W/junk.gz" --labels "$L"
fails_with "go together" "$NODE" "$ORTJS" eval --model "$M" --images "$I"
fails_with "not an ONNX model" "$NODE" "$ORTJS" bench --model "$W/notonnx.onnx" --size 48
fails_with "cannot read '$W/missing.onnx'" "$NODE" "$ORTJS" bench --model "$W/missing.onnx" --size 48
fails_with "missing --size" "$NODE" "$ORTJS" bench --model "$M"
fails_with "bad --size '0'" "$NODE" "$ORTJS" bench --model "$M" --size 0
fails_with "bad --runs 'x'" "$NODE" "$ORTJS" bench --model "$M" --size 48 --runs x
fails_with "unknown flag '--bogus'" "$NODE" "$ORTJS" bench --model "$M" --size 48 --bogus 1
fails_with "usage: ort.js" "$NODE" "$ORTJS" frobnicate
fails_with "holds 2304 floats, shape 1,1,8,8 needs 64" "$NODE" "$ORTJS" run --model "$M" --input "$W/in.f32" --shape 1,1,8,8 --output "$W/o.f32"

if [ $failures -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all ort.js checks passed"
