#!/bin/sh
# Install the Debian packages patchdigest needs, only those missing.
# usage: install-deps.sh build|test|fuzz
# Needs root only when something is actually missing.
set -eu

# The archives patchdigest-lda is linked from (Makefile, LDA_LINK).
static="libgpgme-dev libassuan-dev libgpg-error-dev libidn2-dev libunistring-dev"
build="gcc make pkg-config libgmime-3.0-dev liblmdb-dev libmilter-dev libcmocka-dev xz-utils $static"
test="$build lmdb-utils miltertest postfix procmail maildrop swaks git python3 chromium locales libcmocka0 strace procps systemd"
fuzz="$build clang libclang-rt-14-dev"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
fuzz) want=$fuzz ;;
*) echo "usage: $0 build|test|fuzz" >&2; exit 64 ;;
esac

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
# Postfix asks which configuration to use: local only; tests configure the rest.
echo 'postfix postfix/main_mailer_type select Local only' | debconf-set-selections
echo 'postfix postfix/mailname string localhost' | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
