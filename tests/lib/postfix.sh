# Shared Postfix helper for integration tests.  POSIX sh; source it:
#
#	. "$PD_SRC/tests/lib/postfix.sh"
#	pf_setup || exit 1
#	trap 'pf_teardown' EXIT		# the caller's job, right after pf_setup
#	trap 'exit 1' INT TERM		# so that the EXIT trap runs on signals
#	pf_milter "unix:$dir/milter.sock"	# optional
#	swaks --server 127.0.0.1 --port 2525 --to pdtest@localhost --data @FILE
#	pf_wait_maildir 1 30 || fail
#
# pf_setup
#	Installs postfix if missing, waits for an exclusive lock so that only one
#	test at a time uses Postfix, stops a running system Postfix, backs up
#	/etc/postfix and writes a loopback-only test configuration:
#	  - every service unchrooted, so a milter socket may be any absolute path
#	    (the directories on the way must be searchable by user postfix);
#	  - its own queue and data directories under $PF_TMP, so the system's
#	    mail queue is never touched and no old mail leaks into a test;
#	  - no port 25 listener; the test listener 127.0.0.1:2525 (smtpd);
#	  - log in $PF_LOG (maillog_file), local delivery to ~/Maildir/;
#	  - test user pdtest ($PF_USER) with an empty $PF_MAILDIR/{new,cur,tmp}.
#	Starts Postfix and waits until port 2525 answers.  Sets PF_TMP (a
#	temporary directory, mode 755, removed by pf_teardown), PF_LOG,
#	PF_MAILDIR, PF_PORT=2525, PF_QUEUE (the queue directory: relative milter
#	socket paths such as unix:patchdigest/milter.sock resolve against it).
# pf_milter SOCKET
#	smtpd_milters = non_smtpd_milters = SOCKET, milter_default_action =
#	accept; restarts Postfix and waits for port 2525 (a reload could let an
#	old smtpd without the milter take the next connection).
# pf_nomilter
#	Removes the milters again (restart as above).
# pf_wait_maildir N [TIMEOUT]
#	Waits until $PF_MAILDIR/new holds N files (default timeout 60 s);
#	returns non-zero on timeout or if more than N arrived.
# pf_maildir_count
#	Prints the number of files in $PF_MAILDIR/new.
# pf_teardown
#	Stops the test Postfix, restores /etc/postfix, restarts the system
#	Postfix if pf_setup stopped it, removes $PF_TMP, releases the lock.
#	Safe to call twice, and before pf_setup finished.
#
# The lock is held by a small background process, not by a file descriptor of
# the test's shell: daemons the test starts (Postfix, the milter) would
# inherit such a descriptor and keep the lock after the test ended.  The
# holder exits by itself when the test's shell dies.
# Internal variables and functions are prefixed pf_ (PF_ for the exported
# ones), so they do not clobber the caller's.

PF_PORT=2525
PF_USER=pdtest
PF_LOCKFILE=${PF_LOCKFILE:-/run/lock/patchdigest-postfix-test.lock}
PF_TMP=
PF_LOCK_PID=
PF_BACKUP=
PF_WAS_RUNNING=0
PF_STARTED=0

pf_log() {
	echo "postfix.sh: $*" >&2
}

pf_install() {
	command -v postfix >/dev/null 2>&1 && [ -x /usr/sbin/postfix ] && return 0
	pf_log "installing postfix"
	echo 'postfix postfix/main_mailer_type select Local only' |
	    debconf-set-selections
	echo 'postfix postfix/mailname string localhost' | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends postfix >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends postfix >/dev/null
	}
}

pf_lock() {
	mkdir -p "$(dirname "$PF_LOCKFILE")"
	pf_flag="$PF_TMP/locked"
	# shellcheck disable=SC2016
	sh -c 'exec 7>"$1" || exit 1
		flock -x 7 || exit 1
		: >"$2"
		while kill -0 "$3" 2>/dev/null; do sleep 1 7>&-; done' \
	    pf-lock "$PF_LOCKFILE" "$pf_flag" "$$" </dev/null >/dev/null 2>&1 &
	PF_LOCK_PID=$!
	pf_n=0
	while [ ! -e "$pf_flag" ]; do
		if ! kill -0 "$PF_LOCK_PID" 2>/dev/null; then
			pf_log "cannot lock $PF_LOCKFILE"
			PF_LOCK_PID=
			return 1
		fi
		pf_n=$((pf_n + 1))
		if [ "$pf_n" -gt 6000 ]; then	# 10 minutes
			pf_log "timed out waiting for $PF_LOCKFILE"
			return 1
		fi
		[ $((pf_n % 100)) = 0 ] && pf_log "waiting for $PF_LOCKFILE"
		sleep 0.1
	done
}

pf_unlock() {
	[ -n "$PF_LOCK_PID" ] || return 0
	kill "$PF_LOCK_PID" 2>/dev/null
	wait "$PF_LOCK_PID" 2>/dev/null
	PF_LOCK_PID=
}

# Waits until no master process runs for the current configuration.
pf_wait_stopped() {
	pf_n=0
	while postfix status >/dev/null 2>&1; do
		pf_n=$((pf_n + 1))
		[ "$pf_n" -gt 300 ] && { pf_log "postfix does not stop"; return 1; }
		sleep 0.1
	done
}

pf_wait_port() {
	pf_n=0
	# perl-base is essential on Debian and IO::Socket::INET is part of it.
	until perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $ARGV[0], Timeout => 2) or exit 1;
		my $l = <$s>; print $s "QUIT\r\n"; exit(($l // "") !~ /^220/);
	    ' "$PF_PORT" 2>/dev/null; do
		pf_n=$((pf_n + 1))
		if [ "$pf_n" -gt 300 ]; then
			pf_log "port $PF_PORT does not answer; log:"
			tail -n 20 "$PF_LOG" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
}

pf_start() {
	postfix start >/dev/null 2>&1 || {
		pf_log "postfix start failed"
		postfix start >&2 2>&1
		tail -n 20 "$PF_LOG" >&2 2>/dev/null
		return 1
	}
	PF_STARTED=1
	pf_wait_port
}

pf_stop() {
	[ "$PF_STARTED" = 1 ] || return 0
	postfix stop >/dev/null 2>&1
	pf_wait_stopped
	PF_STARTED=0
}

pf_write_config() {
	# Every service unchrooted (column 5), no port 25 listener, plus the
	# test listener.
	awk '/^[^ \t#]/ { skip = ($1 == "smtp" && $2 == "inet") }
	     skip { next }
	     /^[^ \t#]/ && NF >= 8 { $5 = "n" }
	     { print }' "$PF_BACKUP/postfix/master.cf" \
	    >/etc/postfix/master.cf || return 1
	echo "127.0.0.1:$PF_PORT inet n - n - - smtpd" >>/etc/postfix/master.cf

	cat >/etc/postfix/main.cf <<EOF || return 1
# Written by patchdigest tests/lib/postfix.sh; the original is restored after.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_TMP/data
myhostname = localhost.localdomain
mydomain = localdomain
myorigin = localhost
mydestination = localhost, localhost.localdomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error
relay_transport = error
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
smtpd_banner = \$myhostname ESMTP patchdigest-test
alias_maps =
alias_database =
home_mailbox = Maildir/
mailbox_command =
mailbox_size_limit = 0
message_size_limit = 104857600
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_TMP
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
EOF
}

pf_user() {
	if ! id "$PF_USER" >/dev/null 2>&1; then
		useradd -m -s /usr/sbin/nologin "$PF_USER" || return 1
	fi
	pf_home=$(getent passwd "$PF_USER" | cut -d: -f6)
	[ -n "$pf_home" ] || return 1
	mkdir -p "$pf_home" && chown "$PF_USER:" "$pf_home" || return 1
	PF_MAILDIR=$pf_home/Maildir
	rm -rf "$PF_MAILDIR"
	mkdir -p "$PF_MAILDIR/new" "$PF_MAILDIR/cur" "$PF_MAILDIR/tmp" &&
	    chown -R "$PF_USER:" "$PF_MAILDIR" && chmod -R 700 "$PF_MAILDIR"
}

pf_setup() {
	[ "$(id -u)" = 0 ] || { pf_log "must run as root"; return 1; }
	pf_install || { pf_log "cannot install postfix"; return 1; }
	PF_TMP=$(mktemp -d /tmp/pd-postfix.XXXXXX) || return 1
	chmod 755 "$PF_TMP"
	pf_lock || return 1
	PF_LOG=$PF_TMP/maillog
	PF_QUEUE=$PF_TMP/spool
	if postfix status >/dev/null 2>&1; then
		PF_WAS_RUNNING=1
		postfix stop >/dev/null 2>&1
		pf_wait_stopped || return 1
	fi
	PF_BACKUP=$PF_TMP/backup
	mkdir -p "$PF_BACKUP" "$PF_QUEUE" "$PF_TMP/data" &&
	    cp -a /etc/postfix "$PF_BACKUP/" || return 1
	chown postfix "$PF_TMP/data" || return 1
	pf_write_config || { pf_log "cannot write the configuration"; return 1; }
	pf_user || { pf_log "cannot create user $PF_USER"; return 1; }
	# Creates the queue directories with their owners and modes.
	postfix check >/dev/null 2>&1 || postfix -v check >&2 || true
	pf_start
}

pf_restart() {
	pf_stop || return 1
	pf_start
}

pf_milter() {
	postconf -e "smtpd_milters = $1" "non_smtpd_milters = $1" \
	    'milter_default_action = accept' || return 1
	pf_restart
}

pf_nomilter() {
	postconf -e 'smtpd_milters =' 'non_smtpd_milters =' || return 1
	pf_restart
}

pf_maildir_count() {
	find "$PF_MAILDIR/new" -type f | wc -l
}

pf_wait_maildir() {
	pf_want=$1
	pf_limit=$(( ${2:-60} * 10 ))
	pf_n=0
	while :; do
		pf_have=$(pf_maildir_count)
		[ "$pf_have" -eq "$pf_want" ] && return 0
		if [ "$pf_have" -gt "$pf_want" ]; then
			pf_log "$pf_have messages in $PF_MAILDIR/new, want $pf_want"
			return 1
		fi
		pf_n=$((pf_n + 1))
		if [ "$pf_n" -gt "$pf_limit" ]; then
			pf_log "timeout: $pf_have messages in $PF_MAILDIR/new, want $pf_want"
			tail -n 20 "$PF_LOG" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
}

pf_teardown() {
	pf_stop
	if [ -n "$PF_BACKUP" ] && [ -d "$PF_BACKUP/postfix" ]; then
		rm -rf /etc/postfix.pd-test-old
		mv /etc/postfix /etc/postfix.pd-test-old &&
		    cp -a "$PF_BACKUP/postfix" /etc/postfix &&
		    rm -rf /etc/postfix.pd-test-old
		PF_BACKUP=
	fi
	if [ "$PF_WAS_RUNNING" = 1 ]; then
		postfix start >/dev/null 2>&1 || pf_log "cannot restart postfix"
		PF_WAS_RUNNING=0
	fi
	pf_unlock
	if [ -n "$PF_TMP" ]; then
		rm -rf "$PF_TMP"
		PF_TMP=
	fi
}
