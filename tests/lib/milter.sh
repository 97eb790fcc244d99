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
