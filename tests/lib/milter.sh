# Helpers to run patchdigest-milter in integration tests.  POSIX sh; source
# after setting PD_BUILD:
#
#	. "$PD_SRC/tests/lib/milter.sh"
#	md_start unix:$dir/milter.sock $dir/patchdigest.conf || exit 1
#	...
#	md_stop || fail		# SIGTERM; non-zero unless it exits 0 in time
#
# md_start SOCKET CONFIG [ARGS...]: starts the milter in the foreground
# (-f) in the background, log in $MD_LOG, pid in $MD_PID; waits until it
# listens.  md_stop: SIGTERM and wait (30 s) for a clean exit.
# md_kill: SIGKILL (leaves a stale socket behind, for tests).
#
# md_check_tags DIR CONFIG FILE...: what the MTA delivered or queued, one
# message a file in DIR, carries our tags as they should be for FILE...
# md_same_counters DB FILE...: the store DB counts as an import of FILE...
# Both say why on stderr and return 1 when not.

MD_PID=
MD_LOG=

md_start() {
	md_sock=$1
	md_conf=$2
	shift 2
	MD_LOG=${MD_LOG:-$(mktemp /tmp/pd-milter-log.XXXXXX)}
	md_from=$(( $(wc -l 2>/dev/null <"$MD_LOG" || echo 0) + 1 ))
	"$PD_BUILD/patchdigest-milter" -f -c "$md_conf" -p "$md_sock" "$@" \
	    </dev/null >>"$MD_LOG" 2>&1 &
	MD_PID=$!
	md_n=0
	until tail -n "+$md_from" "$MD_LOG" 2>/dev/null |
	    grep -q "listening on $md_sock"; do
		if ! kill -0 "$MD_PID" 2>/dev/null; then
			echo "milter.sh: the milter exited; log:" >&2
			cat "$MD_LOG" >&2
			MD_PID=
			return 1
		fi
		md_n=$((md_n + 1))
		if [ "$md_n" -gt 300 ]; then
			echo "milter.sh: the milter does not listen on $md_sock" >&2
			return 1
		fi
		sleep 0.1
	done
}

md_stop() {
	[ -n "$MD_PID" ] || return 0
	kill -TERM "$MD_PID" 2>/dev/null
	md_n=0
	while kill -0 "$MD_PID" 2>/dev/null; do
		md_n=$((md_n + 1))
		if [ "$md_n" -gt 300 ]; then
			echo "milter.sh: the milter ignores SIGTERM" >&2
			kill -KILL "$MD_PID" 2>/dev/null
			wait "$MD_PID" 2>/dev/null
			MD_PID=
			return 1
		fi
		sleep 0.1
	done
	wait "$MD_PID"
	md_rc=$?
	MD_PID=
	return $md_rc
}

md_kill() {
	[ -n "$MD_PID" ] || return 0
	kill -KILL "$MD_PID" 2>/dev/null
	wait "$MD_PID" 2>/dev/null
	MD_PID=
	return 0
}

# Every message tagged once, right below the MTA's Received:, well spaced,
# with the Kind, Subsystem and Project -t computes for the originals (the
# series id may differ: -t does not know the store's threads).
md_check_tags() {
	mc_dir=$1
	mc_conf=$2
	shift 2
	mc_tmp=$(mktemp -d /tmp/pd-tags.XXXXXX) || return 1
	if ! python3 "$PD_SRC/tests/lib/maildir_tags.py" --placed "$mc_dir" >"$mc_tmp/got"; then
		echo "milter.sh: tags repeated, misplaced or badly spaced" >&2
	elif [ "$(grep -vc 'X-Patch-Kind=' "$mc_tmp/got")" != 0 ]; then
		echo "milter.sh: $(grep -vc 'X-Patch-Kind=' "$mc_tmp/got") messages without X-Patch-Kind" >&2
	elif ! python3 "$PD_SRC/tests/lib/expected_tags.py" "$PD_BUILD/patchdigest-milter" \
	    "$mc_conf" Kind,Subsystem,Project "$@" >"$mc_tmp/want"; then
		echo "milter.sh: -t of the originals failed" >&2
	elif ! python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from expected_tags import filter_tags
for l in open(sys.argv[2]): print(filter_tags(l, ["Kind", "Subsystem", "Project"]))' \
	    "$PD_SRC/tests/lib" "$mc_tmp/got" >"$mc_tmp/got.f" ||
	    ! sort "$mc_tmp/got.f" >"$mc_tmp/got.cmp"; then
		echo "milter.sh: filter failed" >&2
	elif ! diff "$mc_tmp/want" "$mc_tmp/got.cmp" >"$mc_tmp/diff"; then
		head -n 20 "$mc_tmp/diff" >&2
		echo "milter.sh: tags differ from -t's" >&2
	else
		rm -rf "$mc_tmp"
		return 0
	fi
	rm -rf "$mc_tmp"
	return 1
}

# The counters equal those of an import of the same set, in the same order.
md_same_counters() {
	mc_db=$1
	shift
	mc_tmp=$(mktemp -d /tmp/pd-oracle.XXXXXX) || return 1
	mc_rc=1
	if ! "$PD_BUILD/patchdigest" import -D "$mc_tmp/db" "$@" >/dev/null; then
		echo "milter.sh: import failed" >&2
	elif ! mc_got=$("$PD_BUILD/patchdigest" stats --json -D "$mc_db") ||
	    ! mc_want=$("$PD_BUILD/patchdigest" stats --json -D "$mc_tmp/db"); then
		echo "milter.sh: stats failed" >&2
	else
		echo "milter: $mc_got"
		echo "import: $mc_want"
		[ "$mc_got" = "$mc_want" ] && mc_rc=0 ||
		    echo "milter.sh: store counters differ from the import's" >&2
	fi
	rm -rf "$mc_tmp"
	return $mc_rc
}
