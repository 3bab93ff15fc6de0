#!/bin/sh
# The layers of converter/src (docs/converter.md, "Layers") include only downwards, and the
# torch-free files never include LibTorch. Usage: check_layers.sh converter/src
# Each line of the table: a layer and the layers it may include (besides itself).
src=${1:?usage: check_layers.sh converter/src}
status=0
allowed() {
  case $1 in
    util) echo "" ;;
    data) echo "util" ;;
    dist) echo "util" ;;
    model) echo "util" ;;
    train) echo "util data dist model" ;;
    report) echo "util data model train" ;;
    prune) echo "util data model train report" ;;
    export) echo "util data model train" ;;
    import) echo "util data model train" ;;
    cli) echo "util data dist model train report prune export import" ;;
    *) echo "UNKNOWN" ;;
  esac
}
# Files that must stay torch-free (unit tests and fuzzers link them without LibTorch).
torch_free="util/ data/ dist/ report/plot report/results prune/recipe prune/schedule prune/decision"

for file in $(cd "$src" && find . -name '*.h' -o -name '*.cc' | sed 's|^\./||' | sort); do
  layer=${file%%/*}
  if [ "$layer" = "$file" ]; then
    echo "$file: not in a layer folder"
    status=1
    continue
  fi
  ok=$(allowed "$layer")
  if [ "$ok" = UNKNOWN ]; then
    echo "$file: unknown layer '$layer' (add it to check_layers.sh and docs/converter.md)"
    status=1
    continue
  fi
  for inc in $(sed -n 's|^#include "\([a-z_]*\)/[^"]*".*|\1|p' "$src/$file"); do
    [ "$inc" = "$layer" ] && continue
    [ "$inc" = gnrt ] && continue  # the runtime's public headers
    case " $ok " in
      *" $inc "*) ;;
      *)
        echo "$file: includes $inc/, which is not below $layer"
        status=1
        ;;
    esac
  done
  for prefix in $torch_free; do
    case $file in
      "$prefix"*)
        if grep -q '^#include <torch/' "$src/$file"; then
          echo "$file: must not include LibTorch"
          status=1
        fi
        # Torch-free files include only torch-free files.
        for inc in $(sed -n 's|^#include "\([a-z_]*/[a-z_]*\)\.h".*|\1|p' "$src/$file"); do
          free=0
          for p in $torch_free; do
            case $inc in "$p"*) free=1 ;; esac
          done
          [ "${inc%%/*}" = gnrt ] && free=1
          if [ $free = 0 ]; then
            echo "$file: torch-free, but includes $inc.h"
            status=1
          fi
        done
        ;;
    esac
  done
done
[ $status = 0 ] && echo "converter layers: ok"
exit $status
