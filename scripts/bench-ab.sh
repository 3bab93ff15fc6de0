#!/bin/sh
# A/B of two bench_sparse binaries (for example the previous commit's and this tree's), interleaved in one
# invocation: ROUNDS rounds, alternating which goes first. Prints medians of the per-run medians,
# the in-process ratio against XNNPACK dense, and whether every layer ran the same kernel.
BASE=${1:?usage: bench-ab.sh BASE_BENCH_SPARSE NEW_BENCH_SPARSE OUTDIR [ROUNDS]}; NEW=${2:?}; OUT=${3:?}; ROUNDS=${4:-8}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); cd "$(dirname "$0")/.."
i=1
while [ $i -le $ROUNDS ]; do
  if [ $((i % 2)) -eq 0 ]; then order="new base"; else order="base new"; fi
  for v in $order; do
    B=$BASE; [ $v = new ] && B=$NEW
    $B --density 0.0625 --size 224 --threads 1 --runs 50 > $OUT/random-224-$v-$i.txt 2>&1
    $B --model models/googlenet-fmnist-16x.gnrt --size 224 --threads 1 --runs 50 > $OUT/16x-224-$v-$i.txt 2>&1
    $B --model models/googlenet-fmnist-16x.gnrt --size 48 --threads 1 --runs 200 > $OUT/16x-48-$v-$i.txt 2>&1
    $B --density 0.0625 --size 224 --threads 2 --runs 50 > $OUT/random-224t2-$v-$i.txt 2>&1
  done
  i=$((i + 1))
done
python3 - "$OUT" <<'PY'
import sys, glob, statistics, re, os
out = sys.argv[1]
for cfg in ["random-224", "random-224t2", "16x-224", "16x-48"]:
    row = []
    for v in ["base", "new"]:
        meds, mins, sp = [], [], []
        for f in glob.glob(f"{out}/{cfg}-{v}-*.txt"):
            t = open(f).read()
            m = re.search(r"^libgnrt\s+([\d.]+)\s+([\d.]+)", t, re.M)
            s = re.search(r"speedup_vs_xnnpack_dense=([\d.]+)", t)
            meds.append(float(m.group(1))); mins.append(float(m.group(2))); sp.append(float(s.group(1)))
        row.append(f"{v}: median {statistics.median(meds):.3f} ms (min {min(mins):.3f}), vs XNNPACK {statistics.median(sp):.2f}x")
    print(f"{cfg:13s} " + " | ".join(row))
    # The kernel of every layer (per-layer table: index, layer, kernel, ...) must not differ.
    def kernels(f):
        return [l.split()[1:3] for l in open(f) if re.match(r"^\s*\d+\s+\S+\s+\S+\s+", l) and len(l.split()) > 5]
    a, b = kernels(f"{out}/{cfg}-base-1.txt"), kernels(f"{out}/{cfg}-new-1.txt")
    print(f"{'':13s} per-layer kernels: {'identical' if a == b else 'DIFFERENT'} ({len(a)} layers)")
PY
