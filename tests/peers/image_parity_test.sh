#!/bin/sh
# ort.js eval's preprocessing against libgnrt's own (gnrt_plan_set_input_image_u8): the tensor
# ort.js eval dumps for a Fashion-MNIST image, fed to libgnrt with gnrt_plan_set_input, must give
# the same output bits as the image fed with set_input_image_u8, at 48 and 224 (and 100).
#   image_parity_test.sh IMAGE_PARITY NODE ORT_JS PYTHON MAKE_TINY_ONNX_PY MODEL.gnrt WORKDIR
set -u
PARITY=$1; NODE=$2; ORTJS=$3; PYTHON=$4; MAKE=$5; MODEL=$6; W=$7
rm -rf "$W"; mkdir -p "$W" || exit 1
norm=$("$PARITY" --normalization "$MODEL") || { echo "FAIL: image_parity --normalization"; exit 1; }
set -- $norm
"$PYTHON" "$MAKE" "$W/tiny" --count 4 --mean "$1" --std "$2" || { echo "FAIL: $MAKE"; exit 1; }
failures=0
for size in 48 100 224; do
  if ! "$NODE" "$ORTJS" eval --model "$W/tiny/tiny.onnx" --images "$W/tiny/images.gz" \
       --labels "$W/tiny/predicted-labels.gz" --size "$size" --limit 1 --dump-input "$W/in-$size.f32" > /dev/null; then
    echo "FAIL: ort.js eval --size $size"; failures=$((failures + 1)); continue
  fi
  if "$PARITY" "$MODEL" "$size" "$W/tiny/image0.u8" 28 28 "$W/in-$size.f32"; then echo "ok: size $size"
  else echo "FAIL: size $size"; failures=$((failures + 1)); fi
done
[ $failures -eq 0 ] || { echo "$failures size(s) failed"; exit 1; }
echo "ort.js eval and libgnrt preprocess identically"
