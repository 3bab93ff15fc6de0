#!/bin/sh
# Starts N local ranks of a data-parallel gn-convert run (docs/distributed.md) and waits for them.
#
#   scripts/gn-convert-launch.sh N [--gn-convert PATH] -- train|prune ARGS...
#
# Each rank gets --world-size N --rank R --rendezvous file://<fresh dir> --dist-host 127.0.0.1;
# rank 0 prints to the terminal, rank R>0 logs to <--out>/rank-R.log (or ./rank-R.log). The exit
# status is the first nonzero one of the ranks (0 when all succeed). Set GN_CONVERT_RENDEZVOUS to
# use another store (e.g. redis://host:6379/job-42). Ctrl-C stops every rank.
set -eu

usage() { echo "usage: $0 N [--gn-convert PATH] -- train|prune ARGS..." >&2; exit 2; }
[ $# -ge 1 ] || usage
N="$1"; shift
case "$N" in ''|*[!0-9]*) usage ;; esac
[ "$N" -ge 1 ] || usage
BIN="$(dirname "$0")/../build/release/converter/gn-convert"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    --gn-convert) BIN="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[ $# -ge 2 ] || usage
shift  # --
[ -x "$BIN" ] || { echo "$0: $BIN is not an executable (pass --gn-convert PATH)" >&2; exit 2; }

# The output directory (for the rank logs), from --out DIR or --out=DIR.
LOGDIR="."
prev=""
for a in "$@"; do
  case "$a" in --out=*) LOGDIR="${a#--out=}" ;; esac
  [ "$prev" = "--out" ] && LOGDIR="$a"
  prev="$a"
done
mkdir -p "$LOGDIR"

# One rendezvous per launch (docs/distributed.md: a URL serves one launch).
if [ -n "${GN_CONVERT_RENDEZVOUS:-}" ]; then
  URL="$GN_CONVERT_RENDEZVOUS"
else
  RDZV="$(mktemp -d "${TMPDIR:-/tmp}/gn-convert-rendezvous.XXXXXX")"
  URL="file://$RDZV"
fi

PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  [ -n "${RDZV:-}" ] && rm -rf "$RDZV"
}
trap 'cleanup; exit 130' INT TERM

r=0
while [ "$r" -lt "$N" ]; do
  if [ "$r" -eq 0 ]; then
    "$BIN" "$@" --world-size "$N" --rank 0 --rendezvous "$URL" --dist-host 127.0.0.1 &
  else
    "$BIN" "$@" --world-size "$N" --rank "$r" --rendezvous "$URL" --dist-host 127.0.0.1 \
      > "$LOGDIR/rank-$r.log" 2>&1 &
  fi
  PIDS="$PIDS $!"
  r=$((r + 1))
done

status=0
for p in $PIDS; do
  if ! wait "$p"; then
    rc=$?
    [ "$status" -eq 0 ] && status=$rc
  fi
done
[ -n "${RDZV:-}" ] && rm -rf "$RDZV"
exit "$status"
