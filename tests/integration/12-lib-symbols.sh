#!/bin/sh
# The core library's namespace (a module prefix on every public symbol):
# every global symbol libpatchdigest.a defines is pd_*, or one of the
# logging module's log_*, so that a program linking the library
# meets no other name of ours, and a helper without the prefix left global
# by mistake (one that should be static) shows here.
set -eu
: "${PD_BUILD:?}"
LIB=$PD_BUILD/libpatchdigest.a

fail() { echo "FAIL: $*" >&2; exit 1; }

[ -f "$LIB" ] || fail "no $LIB"
syms=$(nm -g --defined-only "$LIB" | awk 'NF == 3 { print $3 }' | sort -u)
n=$(printf '%s\n' "$syms" | grep -c '^pd_' || true)
[ "$n" -ge 100 ] || fail "only $n pd_ symbols read from $LIB"
# __odr_asan.* (gcc) and __odr_asan_gen_* (clang): AddressSanitizer's
# marks of our own globals
bad=$(printf '%s\n' "$syms" |
	grep -Ev '^(pd_|__odr_asan(\.|_gen_)pd_)|^(log_init|log_setqid|log_warn|log_warnx|log_info|log_debug)$' || true)
[ -z "$bad" ] || fail "global symbols outside pd_*: $(echo $bad)"
echo "ok: $n pd_ symbols, the logging module's, nothing else"
