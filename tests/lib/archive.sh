# Sourced by the tests that read the whole kvmarm archive (2x-*.sh): skips
# them under the sanitizers unless PD_FULL=1 (minutes there), sets PD and T
# (a temporary directory removed at exit).
# shellcheck shell=sh disable=SC2034 # the variables are for the sourcing test
if [ "${PD_SANITIZE:-0}" = 1 ] && [ "${PD_FULL:-0}" != 1 ]; then
	echo "skipped under sanitizers without PD_FULL=1"
	exit 0
fi
PD="$PD_BUILD/patchdigest"
ARCHIVE="$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP	# dash runs the EXIT trap only on exit
