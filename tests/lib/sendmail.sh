# Helpers to run a real Sendmail on 127.0.0.1 in integration tests.  POSIX
# sh; source after setting PD_SRC:
#
#	. "$PD_SRC/tests/lib/sendmail.sh"
#	sm_setup DIR MILTER_SOCKET || exit 1	# sendmail.cf, daemon on $SM_PORT
#	...
#	sm_teardown
#
# Sendmail comes unpacked from its Debian packages below $SM_ROOT
# (contrib/install-deps.sh test): installing it would remove Postfix.  The
# daemon reads a sendmail.cf built with m4 from a minimal sendmail.mc plus
# contrib/sendmail.mc.snippet, the socket put in.  It queues every message
# (DeliveryMode queueonly) in DIR/queue, so a test reads what Sendmail would
# deliver from the queue files (tests/lib/sendmail_queue.py), and it never
# touches /etc/mail or the system's mail.  It runs as root, in UTS and
# mount namespaces of its own: its host name is qualified (Sendmail sleeps a
# minute at start-up on a host name it cannot qualify) and listed in the
# hosts file it sees, and the only name server it knows is 127.0.0.1, so
# that it looks nothing up beyond loopback.

SM_ROOT=${PD_SENDMAIL_ROOT:-/var/cache/patchdigest-test/sendmail}
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_PORT=${SM_PORT:-2526}
SM_DIR=
SM_PID=

sm_log() { echo "sendmail.sh: $*" >&2; }

sm_answers() {	# something listens on 127.0.0.1:$SM_PORT
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
	    "$SM_PORT" 2>/dev/null
}

# sm_setup DIR SOCKET: SOCKET (unix:/path) must not lie below a group- or
# world-writable directory such as /tmp: Sendmail refuses it.
sm_setup() {
	SM_DIR=$1
	[ "$(id -u)" = 0 ] || { sm_log "must run as root"; return 1; }
	[ -x "$SM_BIN" ] || { sm_log "no $SM_BIN: run contrib/install-deps.sh test"; return 1; }
	command -v m4 >/dev/null || { sm_log "no m4"; return 1; }
	sm_answers && { sm_log "127.0.0.1:$SM_PORT is taken"; return 1; }
	mkdir -p "$SM_DIR/queue" && chmod 700 "$SM_DIR/queue" || return 1
	printf 'hosts\tfiles\naliases\tfiles\n' >"$SM_DIR/service.switch" || return 1
	printf '127.0.0.1\tlocalhost mx.patchdigest.test\n' >"$SM_DIR/hosts" || return 1
	printf 'nameserver 127.0.0.1\n' >"$SM_DIR/resolv.conf" || return 1
	sm_cf=$SM_ROOT/usr/share/sendmail/cf
	{
		cat <<EOF
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.patchdigest.test')dnl
define(\`QUEUE_DIR', \`$SM_DIR/queue')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
		sed "s|unix:/run/patchdigest/milter.sock|$2|" \
		    "$PD_SRC/contrib/sendmail.mc.snippet"
	} >"$SM_DIR/sendmail.mc" || return 1
	grep -q "S=$2," "$SM_DIR/sendmail.mc" ||
	    { sm_log "the snippet's socket was not replaced"; return 1; }
	m4 -D_CF_DIR_="$sm_cf/" "$sm_cf/m4/cf.m4" "$SM_DIR/sendmail.mc" \
	    >"$SM_DIR/sendmail.cf" || { sm_log "m4 failed"; return 1; }
	# -bD: the daemon stays in the foreground, so $! is its pid (unshare
	# and sh exec it in place).
	# shellcheck disable=SC2016	# expanded by the inner sh
	unshare --uts --mount sh -c 'mount --bind "$2/hosts" /etc/hosts &&
	    mount --bind "$2/resolv.conf" /etc/resolv.conf &&
	    hostname mx.patchdigest.test && exec "$0" -C "$1" -bD' \
	    "$SM_BIN" "$SM_DIR/sendmail.cf" "$SM_DIR" \
	    </dev/null >"$SM_DIR/sendmail.out" 2>&1 &
	SM_PID=$!
	sm_n=0
	until sm_answers; do
		if ! kill -0 "$SM_PID" 2>/dev/null; then
			sm_log "sendmail exited: $(tail -n 3 "$SM_DIR/sendmail.out")"
			SM_PID=
			return 1
		fi
		sm_n=$((sm_n + 1))
		[ "$sm_n" -le 100 ] || { sm_log "sendmail does not listen on $SM_PORT"; return 1; }
		sleep 0.1
	done
}

# The messages Sendmail has queued.
sm_queued() {
	find "$SM_DIR/queue" -name 'qf*' | wc -l
}

sm_teardown() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM "$SM_PID" 2>/dev/null
	sm_n=0
	while kill -0 "$SM_PID" 2>/dev/null && [ "$sm_n" -lt 50 ]; do
		sm_n=$((sm_n + 1))
		sleep 0.1
	done
	kill -KILL "$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
	return 0
}
