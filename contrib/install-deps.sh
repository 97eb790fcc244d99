#!/bin/sh
# Install the Debian packages patchdigest needs, only those missing.
# usage: install-deps.sh build|test|fuzz
# Needs root only when something is actually missing.
#
# For the tests, also Sendmail, unpacked below $PD_SENDMAIL_ROOT (default
# /var/cache/patchdigest-test/sendmail): its packages conflict with
# Postfix's, so they are not installed; its libraries and m4 (to build a
# sendmail.cf) are.
set -eu

# The archives patchdigest-lda is linked from (Makefile, LDA_LINK).
static="libgpgme-dev libassuan-dev libgpg-error-dev libidn2-dev libunistring-dev"
build="gcc make pkg-config libgmime-3.0-dev liblmdb-dev libmilter-dev libcmocka-dev xz-utils $static"
sendmail_libs="m4 libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2 libssl3 libwrap0"
test="$build lmdb-utils miltertest postfix procmail maildrop swaks git python3 chromium locales libcmocka0 strace procps systemd $sendmail_libs"
fuzz="$build clang libclang-rt-14-dev"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
fuzz) want=$fuzz ;;
*) echo "usage: $0 build|test|fuzz" >&2; exit 64 ;;
esac

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: need root to install:$1" >&2
		exit 1
	fi
}

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	need_root "$missing"
	# Postfix asks which configuration to use: local only; tests configure the rest.
	echo 'postfix postfix/main_mailer_type select Local only' | debconf-set-selections
	echo 'postfix postfix/mailname string localhost' | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

smroot=${PD_SENDMAIL_ROOT:-/var/cache/patchdigest-test/sendmail}
if [ "${1:-build}" = test ] && [ ! -x "$smroot/usr/libexec/sendmail/sendmail" ]; then
	if [ "$(id -u)" != 0 ]; then
		# only the tests with Sendmail need it, and they run as root
		echo "install-deps: as root, would unpack Sendmail into $smroot" >&2
		exit 0
	fi
	echo "install-deps: unpacking sendmail-bin and sendmail-cf into $smroot"
	dl=$(mktemp -d)
	trap 'rm -rf "$dl"' EXIT
	# as root: the download directory is not the sandbox user's
	if ! (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root \
	    sendmail-bin sendmail-cf >/dev/null); then
		apt-get update -qq >/dev/null
		(cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root \
		    sendmail-bin sendmail-cf >/dev/null)
	fi
	rm -rf "$smroot.new"
	mkdir -p "$smroot.new"
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$smroot.new"
	done
	# setgid mail: no use to tests run as root, and nothing updates this copy
	find "$smroot.new" -type f -perm /6000 -exec chmod ug-s {} +
	rm -rf "$smroot"
	mv "$smroot.new" "$smroot"
fi
