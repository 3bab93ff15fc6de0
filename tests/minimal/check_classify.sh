#!/bin/sh
# Runs a classify app (examples/classify.c) on MODEL and IMAGE, optionally under an emulator, and
# checks its top-5: five lines "rank score class label", ranks 1..5, scores in [0, 1] and not
# increasing. When REFERENCE is not "-", it is another build of classify run natively (the host
# release build); both must name the same classes and labels in the same order, with scores
# within 0.002 (different kernels sum in different orders).
#
# usage: check_classify.sh MODEL IMAGE REFERENCE APP [EMULATOR ARGS...]
#   e.g. check_classify.sh m.gnrt img.pgm build/examples/classify work/app/classify \
#          qemu-aarch64 -L /usr/aarch64-linux-gnu
set -eu
model=$1; image=$2; reference=$3; app=$4
shift 4

out=$("$@" "$app" "$model" "$image")
echo "$out"
echo "$out" | awk '
  BEGIN { status = 0 }
  {
    if ($0 !~ /^[1-5] [0-9]+\.[0-9][0-9][0-9][0-9] [0-9]+ .+$/) { print "bad line: " $0; status = 1 }
    if ($1 != NR) { print "rank " $1 " on line " NR; status = 1 }
    if ($2 < 0 || $2 > 1) { print "score out of [0, 1]: " $2; status = 1 }
    if (NR > 1 && $2 > previous) { print "scores not in decreasing order at rank " $1; status = 1 }
    previous = $2
  }
  END { if (NR != 5) { print NR " lines, expected 5"; status = 1 } exit status }' >&2

if [ "$reference" != "-" ]; then
  expected=$("$reference" "$model" "$image")
  printf '%s\n' "$expected" > "${TMPDIR:-/tmp}/gnrt-check-classify-$$.txt"
  echo "$out" | awk -v ref="${TMPDIR:-/tmp}/gnrt-check-classify-$$.txt" '
    BEGIN { status = 0; n = 0
            while ((getline line < ref) > 0) { n++; split(line, f, " "); score[n] = f[2]; class[n] = f[3]
                                               sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", line); label[n] = line } }
    {
      rest = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", rest)
      if ($3 != class[NR] || rest != label[NR]) {
        print "rank " NR ": class " $3 " (" rest "), reference " class[NR] " (" label[NR] ")"; status = 1
      }
      d = $2 - score[NR]; if (d < 0) d = -d
      if (d > 0.002) { print "rank " NR ": score " $2 ", reference " score[NR]; status = 1 }
    }
    END { if (NR != n) { print NR " lines, reference " n; status = 1 } exit status }' >&2 ||
    { rm -f "${TMPDIR:-/tmp}/gnrt-check-classify-$$.txt"; echo "reference output:" >&2; echo "$expected" >&2; exit 1; }
  rm -f "${TMPDIR:-/tmp}/gnrt-check-classify-$$.txt"
  echo "matches the reference ($reference)"
fi
