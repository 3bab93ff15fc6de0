#!/bin/sh
# Footprint and flags of a minimal build made by minimal_build.sh; run by the
# minimal_<arch>_footprint ctest cases. Prints the sizes docs/integration.md reports and fails
#  - when libgnrt.a carries exception handling or RTTI (personality routine, catch/throw calls,
#    typeinfo, .gcc_except_table), i.e. when -fno-exceptions -fno-rtti did not take effect;
#  - when the code and data of libgnrt.a, or the stripped classify app, exceed BUDGET bytes.
#
# usage: inspect_minimal.sh WORK_DIR TOOL_PREFIX BUDGET
#   TOOL_PREFIX: "" for the host binutils, "aarch64-linux-gnu-" for the cross ones.
set -eu
work=$1; tools=$2; budget=$3
lib=$(ls "$work"/prefix/lib*/libgnrt.a)
tmp="$work/inspect"
rm -rf "$tmp"; mkdir -p "$tmp"

# Stripped copies: what would ship. --strip-unneeded keeps what linking needs.
cp "$lib" "$tmp/libgnrt.a"
"${tools}strip" --strip-unneeded "$tmp/libgnrt.a"
for app in classify classify-static-cxx; do
  cp "$work/app/$app" "$tmp/$app"
  "${tools}strip" "$tmp/$app"
done

bytes() { wc -c < "$1" | tr -d ' '; }
# text + data of every member (size -t's total line, Berkeley format): the bytes of libgnrt
# that can end up in an app; the rest of the archive is symbols, relocations and headers.
lib_code=$("${tools}size" -t "$tmp/libgnrt.a" | awk 'END { print $1 + $2 }')
lib_file=$(bytes "$tmp/libgnrt.a")
app=$(bytes "$tmp/classify")
app_static_cxx=$(bytes "$tmp/classify-static-cxx")

echo "minimal footprint, bytes (budget $budget):"
printf '  %-44s %8s\n' "libgnrt.a as installed" "$(bytes "$lib")"
printf '  %-44s %8s\n' "libgnrt.a stripped (--strip-unneeded)" "$lib_file"
printf '  %-44s %8s\n' "libgnrt.a code+data (size -t: text+data)" "$lib_code"
printf '  %-44s %8s\n' "classify stripped (libstdc++ shared)" "$app"
printf '  %-44s %8s\n' "classify stripped (-static-libstdc++)" "$app_static_cxx"
echo "classify sections (size -A, stripped, libstdc++ shared):"
"${tools}size" -A "$tmp/classify" | awk '$2 ~ /^[0-9]+$/ && $2 >= 512 { printf "  %-24s %8d\n", $1, $2 }'

status=0
# Exception handling and RTTI would show as references to the C++ ABI's EH entry points or as
# typeinfo objects (_ZTI/_ZTS) defined in the library.
eh=$("${tools}nm" -A "$tmp/libgnrt.a" 2>/dev/null |
     grep -E ' (U|[TtVvWwRr]) (__gxx_personality_v0|__cxa_begin_catch|__cxa_end_catch|__cxa_throw|__cxa_rethrow|_ZTI|_ZTS)' || true)
if [ -n "$eh" ]; then
  echo "FAIL: libgnrt.a was not built with -fno-exceptions -fno-rtti:" >&2
  echo "$eh" | head -20 >&2
  status=1
fi
if "${tools}objdump" -h "$tmp/libgnrt.a" | grep -q '\.gcc_except_table'; then
  echo "FAIL: libgnrt.a has .gcc_except_table sections (exception landing pads)" >&2
  status=1
fi
if [ "$lib_code" -gt "$budget" ]; then
  echo "FAIL: libgnrt.a code+data is $lib_code bytes, over the budget of $budget" >&2
  status=1
fi
if [ "$app" -gt "$budget" ]; then
  echo "FAIL: the stripped classify app is $app bytes, over the budget of $budget" >&2
  status=1
fi
exit $status
