#!/bin/sh
# The example_classify_many ctest case (examples/CMakeLists.txt): runs classify_many on files and
# on an IDX file and checks that
#  - one plan serves every image: arena bytes printed once, reallocations=0 at the end;
#  - the same image gives the same top-5 wherever it comes in the sequence, with 1 or 2 threads,
#    as a PGM file or as item 0 of the IDX file it was cut from, and the same top-5 as the C
#    example (classify) prints for it;
#  - a bad file is rejected before any image is classified, a bad command line with exit 2.
#
# usage: test_classify_many.sh CLASSIFY_MANY CLASSIFY MODEL SAMPLE_PGM IDX_IMAGES_GZ IDX_LABELS_GZ WORK_DIR
set -eu
many=$1; classify=$2; model=$3; pgm=$4; images_gz=$5; labels_gz=$6; work=$7
rm -rf "$work"; mkdir -p "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
line() { sed -n "$1p" "$2"; }

# A 20x12 colour PPM (P6, a gradient), so that the run mixes sizes and channel counts.
{
  printf 'P6\n20 12\n255\n'
  y=0
  while [ $y -lt 12 ]; do
    x=0
    while [ $x -lt 20 ]; do
      printf "\\$(printf %o $((x * 12)))\\$(printf %o $((y * 20)))\\$(printf %o $(((x + y) * 5)))"
      x=$((x + 1))
    done
    y=$((y + 1))
  done
} > "$work/gradient.ppm"
test "$(wc -c < "$work/gradient.ppm")" -eq $((13 + 20 * 12 * 3)) || fail "gradient.ppm has the wrong size"

# 1. Files: PGM, PPM, PGM.
"$many" "$model" "$pgm" "$work/gradient.ppm" "$pgm" > "$work/files.txt"
cat "$work/files.txt"
test "$(wc -l < "$work/files.txt")" -eq 6 || fail "expected 2 header lines, 3 image lines, 1 summary"
line 1 "$work/files.txt" | grep -Eq '^model: .+, input [0-9]+x[0-9]+x[0-9]+, [0-9]+ classes$' || fail "model line"
arena=$(line 2 "$work/files.txt" | sed -n 's/^plan: arena \([0-9][0-9]*\) bytes, packed weights [0-9][0-9]* bytes, isa [a-z0-9]*, 1 thread(s)$/\1/p')
test -n "$arena" || fail "plan line"
test "$(line 6 "$work/files.txt")" = "summary: images=3 reallocations=0 arena_bytes=$arena" || fail "summary line"
pattern='^[^:]+: [0-9]+ .+ [01]\.[0-9]{4}( \| [0-9]+ .+ [01]\.[0-9]{4}){4}$'
sed -n '3,5p' "$work/files.txt" | grep -Evq "$pattern" && fail "an image line is not a top-5"
sample=$(line 3 "$work/files.txt")
test "$sample" = "$(line 5 "$work/files.txt")" || fail "the same image gave two different top-5s"
line 4 "$work/files.txt" | grep -q '^gradient.ppm: ' || fail "PPM line"

# The C example on the same image: "rank score class label" -> "class label score | ...".
expected=$("$classify" "$model" "$pgm" |
           awk '{ s = $2; c = $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "%s%s %s %s", (NR > 1 ? " | " : ""), c, $0, s }')
test "${sample#*: }" = "$expected" || fail "top-5 differs from classify's: $expected"

# 2. Two threads: the same top-5s, digit for digit.
"$many" --threads 2 "$model" "$pgm" "$work/gradient.ppm" "$pgm" > "$work/threads.txt"
test "$(sed -n '3,5p' "$work/threads.txt")" = "$(sed -n '3,5p' "$work/files.txt")" || fail "2 threads changed a result"
grep -q '^summary: images=3 reallocations=0 ' "$work/threads.txt" || fail "2-thread summary"

# 3. IDX: the first 20 test images with labels; item 0 is the sample PGM.
gzip -dc "$images_gz" > "$work/images.idx"
gzip -dc "$labels_gz" > "$work/labels.idx"
"$many" "$model" --idx "$work/images.idx" --labels "$work/labels.idx" --count 20 > "$work/idx.txt"
cat "$work/idx.txt"
test "$(wc -l < "$work/idx.txt")" -eq 23 || fail "expected 2 header lines, 20 image lines, 1 summary"
line 23 "$work/idx.txt" | grep -Eq "^summary: images=20 reallocations=0 arena_bytes=$arena top1=[0-9]+/20 top5=[0-9]+/20$" ||
  fail "IDX summary"
first=$(line 3 "$work/idx.txt")
case "$first" in
  "images.idx[0] truth=9: "*) ;;
  *) fail "IDX item 0 line: $first" ;;
esac
test "${first#*: }" = "${sample#*: }" || fail "IDX item 0 and the PGM cut from it differ"

# 4. A bad file anywhere is rejected before any image is classified.
if "$many" "$model" "$pgm" "$model" > "$work/bad.txt" 2> "$work/bad.err"; then fail "a model file passed as an image"; fi
grep -q '^classify_many: .*not a binary PGM/PPM' "$work/bad.err" || fail "bad-file message"
test "$(wc -l < "$work/bad.txt")" -eq 2 || fail "images were classified before the bad file was found"
if "$many" "$model" > /dev/null 2>&1; then fail "no images accepted"; else test $? -eq 2 || fail "usage exit code"; fi
echo "example_classify_many: all checks passed"
