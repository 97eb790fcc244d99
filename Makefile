# patchdigest: plain Makefile.  `make`, `make check`, `make asan`, `make demo`,
# `make bench`, `make fuzz`, `make install PREFIX=... DESTDIR=...`.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
DATADIR	?= $(PREFIX)/share/patchdigest

BUILD	?= build
CC	?= cc
PKG_CONFIG ?= pkg-config
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	  -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
ifeq ($(CI),true)
WARN	+= -Werror
endif
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Evaluated when used, so that `make deps` can install the packages first.
PD_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	    $(shell $(PKG_CONFIG) --cflags gmime-3.0 lmdb)
PD_LIBS	= $(shell $(PKG_CONFIG) --libs gmime-3.0 lmdb) -lpthread
# patchdigest-lda runs once per message, and most of such a short process's
# time went to mapping and relocating GMime's 19 shared libraries (page
# faults: see tests/bench/README.md).  It links GMime, GLib and LMDB and
# their libraries statically; libmount, of which Debian ships no archive,
# stays shared with what it loads anyway.  LDA_LINK=shared links it like the
# other programs.
LDA_LINK ?= static
LDA_STATIC = gmime-3.0 gpgme assuan gpg-error idn2 unistring gio-2.0 gobject-2.0 \
	     gmodule-2.0 glib-2.0 lmdb ffi z
ifeq ($(LDA_LINK),static)
LDA_LIBS = -Wl,-Bstatic $(addprefix -l,$(LDA_STATIC)) -Wl,-Bdynamic \
	   -Wl,--as-needed -lmount -lselinux -lpcre2-8 -lm -lpthread
else
LDA_LIBS = $(PD_LIBS)
endif
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

LIB_SRC	:= $(sort $(wildcard lib/*.c))
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/rules.o
LIB	:= $(BUILD)/libpatchdigest.a
CLI_OBJ	:= $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/*.c)))
LDA_OBJ	:= $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard lda/*.c)))
MILTER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard milter/*.c)))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(sort $(wildcard tests/tools/*.c)))
PROGS	:= $(BUILD)/patchdigest $(BUILD)/patchdigest-lda $(BUILD)/patchdigest-milter

.PHONY: all build deps deps-test check check-full asan demo bench fuzz install clean tests

all: build

build: | deps
	@$(MAKE) --no-print-directory $(PROGS)

deps:
	@sh contrib/install-deps.sh build

deps-test:
	@sh contrib/install-deps.sh test

$(BUILD)/%.o: %.c $(wildcard include/patchdigest/*.h) $(wildcard lib/*.h cli/*.h lda/*.h milter/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PD_CFLAGS) -c -o $@ $<

# The sample subject rules, built in: a configuration without SubsystemRules
# uses them (lib/classify.c).
$(BUILD)/gen/rules.c: etc/subsystems.rules
	@mkdir -p $(dir $@)
	{ echo '/* Generated from etc/subsystems.rules by the Makefile. */'; \
	  echo 'extern const unsigned char pd_builtin_rules[];'; \
	  echo 'const unsigned char pd_builtin_rules[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0 };'; } >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/rules.o: $(BUILD)/gen/rules.c
	$(CC) $(PD_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BUILD)/patchdigest: $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PD_LIBS)

# A stamp named after LDA_LINK: changing it relinks the LDA.
$(BUILD)/lda-link.$(LDA_LINK):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/lda-link.*
	@touch $@

$(BUILD)/patchdigest-lda: $(LDA_OBJ) $(LIB) Makefile $(BUILD)/lda-link.$(LDA_LINK)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $(LDA_OBJ) $(LIB) $(LDA_LIBS)

$(BUILD)/patchdigest-milter: $(MILTER_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $(MILTER_OBJ) $(LIB) $(PD_LIBS) -lmilter

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB) $(wildcard tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PD_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(LIB) $(PD_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(PD_CFLAGS) -o $@ $< $(LIB) $(PD_LIBS)

tests: build
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(TOOL_BIN)

# Every test: cmocka unit tests, then the integration scripts (real Postfix,
# procmail, maildrop, miltertest, sendmail).
check: deps-test
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) sh tests/run.sh

# The same suite built with AddressSanitizer and UBSan; any report fails.
asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan EXTRA_CFLAGS="$(SAN_FLAGS)" tests
	@BUILD=build-asan PD_SANITIZE=1 sh tests/run.sh

# Long runs: the whole kvmarm archive, fault injection, load.
check-full: deps-test
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) PD_FULL=1 sh tests/run.sh

demo: build
	@BUILD=$(BUILD) sh tests/demo.sh

bench: deps-test
	@$(MAKE) --no-print-directory tests >&2
	@BUILD=$(BUILD) sh tests/bench/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	@sh contrib/install-deps.sh fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)
	install -m 755 $(BUILD)/patchdigest $(BUILD)/patchdigest-lda $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/patchdigest-milter $(DESTDIR)$(SBINDIR)
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8
	install -m 644 $(filter-out etc/patchdigest.conf,$(wildcard etc/*)) $(DESTDIR)$(DATADIR)
	sed 's|/usr/local/share/patchdigest|$(DATADIR)|' etc/patchdigest.conf \
	    >$(DESTDIR)$(DATADIR)/patchdigest.conf
	chmod 644 $(DESTDIR)$(DATADIR)/patchdigest.conf

clean:
	rm -rf build build-asan build-fuzz
