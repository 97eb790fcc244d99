/*
 * The subject grammar (SPEC.md 2): every distinct subject shape of
 * ../shared/corpus/lore-kvmarm/_sets/feature_prefix-shape_*.txt and
 * feature_odd-reply-prefix.txt, plus the bracket shapes the spec lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "patchdigest/msg.h"
#include "patchdigest/subject.h"

#define R	PD_FLAG_RFC
#define S	PD_FLAG_RESEND

struct shape {
	const char	*subject;
	int		 kind;
	int		 version, cx, cn;
	unsigned	 flags;
	const char	*tags;		/* "|"-joined */
	const char	*title;
};

static const struct shape shapes[] = {
	/* The bracket shapes of SPEC.md 2. */
	{ "[PATCH v3 01/36] KVM: arm64: x", PD_KIND_PATCH, 3, 1, 36, 0, "", "KVM: arm64: x" },
	{ "[RFC PATCH 00/30] t", PD_KIND_COVER, 1, 0, 30, R, "", "t" },
	{ "[PATCH RFC net-next 1/7] ice: add", PD_KIND_PATCH, 1, 1, 7, R, "net-next", "ice: add" },
	{ "[kvm-unit-tests PATCH v2 0/9] t", PD_KIND_COVER, 2, 0, 9, 0, "kvm-unit-tests", "t" },
	{ "[PATCH kvmtool] t", PD_KIND_PATCH, 1, -1, -1, 0, "kvmtool", "t" },
	{ "[PATCHv3 2/3] t", PD_KIND_PATCH, 3, 2, 3, 0, "", "t" },
	{ "[PATCH-next 1/3] t", PD_KIND_PATCH, 1, 1, 3, 0, "next", "t" },
	{ "[PATCH-for-9.1 v2 0/4] t", PD_KIND_COVER, 2, 0, 4, 0, "for-9.1", "t" },
	{ "[PATCH- 1/3] t", PD_KIND_OTHER, 1, 1, 3, 0, "PATCH-", "t" },
	{ "[PATCH v6,19/24] t", PD_KIND_PATCH, 6, 19, 24, 0, "", "t" },
	{ "[PATCH 1/8] t", PD_KIND_PATCH, 1, 1, 8, 0, "", "t" },
	{ "[PATCH1/8] t", PD_KIND_PATCH, 1, 1, 8, 0, "", "t" },
	{ "[GIT PULL] KVM/arm64 fixes for 6.1, take #1", PD_KIND_PULL, 1, -1, -1, 0, "", "KVM/arm64 fixes for 6.1, take #1" },
	{ "[PULL 0/5] t", PD_KIND_PULL, 1, 0, 5, 0, "", "t" },
	/* Mercurial's counter in words */
	{ "[PATCH 0 of 2] Sample Mercurial patches", PD_KIND_COVER, 1, 0, 2, 0, "", "Sample Mercurial patches" },
	{ "[PATCH 2 of 2] tests: work around", PD_KIND_PATCH, 1, 2, 2, 0, "", "tests: work around" },
	{ "[PATCH v3 10 of 12] t", PD_KIND_PATCH, 3, 10, 12, 0, "", "t" },
	{ "[PATCH 1 of two] t", PD_KIND_PATCH, 1, -1, -1, 0, "1|of|two", "t" },
	{ "[PATCH 1 of 2x] t", PD_KIND_PATCH, 1, -1, -1, 0, "1|of|2x", "t" },
	/* netdev's "pull request" is one phrase; with PATCH, a patch posting */
	{ "[PATCH net-next 0/2][pull request] Intel Wired LAN Driver Updates", PD_KIND_COVER, 1, 0, 2, 0, "net-next", "Intel Wired LAN Driver Updates" },
	{ "[PATCH net 1/3][pull request] ice: fix", PD_KIND_PATCH, 1, 1, 3, 0, "net", "ice: fix" },
	{ "[pull request][net-next 00/15] mlx5 updates", PD_KIND_PULL, 1, 0, 15, 0, "net-next", "mlx5 updates" },
	{ "[GIT PULL REQUEST] t", PD_KIND_PULL, 1, -1, -1, 0, "", "t" },
	{ "[PULL] request for x", PD_KIND_PULL, 1, -1, -1, 0, "", "request for x" },
	{ "[PATCH RESEND] t", PD_KIND_PATCH, 1, -1, -1, S, "", "t" },
	{ "[PATCH 5.10 01/23] t", PD_KIND_PATCH, 1, 1, 23, 0, "5.10", "t" },
	{ "[PATCH 9/3] t", PD_KIND_PATCH, 1, 9, 9, 0, "", "t" },	/* x > N */
	{ "Re: Re: [PATCH v2 3/4] t", PD_KIND_REPLY, 2, 3, 4, 0, "", "t" },
	{ "Aw: [PATCH] t", PD_KIND_REPLY, 1, -1, -1, 0, "", "t" },
	{ "Fwd: Sv: FW: t", PD_KIND_REPLY, 1, -1, -1, 0, "", "t" },
	/* Chinese clients' markers, either colon (kvmarm archive, 2021) */
	{ "\xe5\x9b\x9e\xe5\xa4\x8d: Re: [PATCH] kvm: fix x", PD_KIND_REPLY, 1, -1, -1, 0, "", "kvm: fix x" },
	{ "\xe7\xad\x94\xe5\xa4\x8d\xef\xbc\x9a[PATCH 2/3] t", PD_KIND_REPLY, 1, 2, 3, 0, "", "t" },
	{ "\xe8\xbd\xac\xe5\x8f\x91 : \xe5\x9b\x9e\xe8\xa6\x86: t", PD_KIND_REPLY, 1, -1, -1, 0, "", "t" },
	{ "\xe8\xbd\x89\xe5\xaf\x84: \xe8\xbd\x89\xe7\x99\xbc\xef\xbc\x9a t", PD_KIND_REPLY, 1, -1, -1, 0, "", "t" },
	{ "\xe5\x9b\x9e\xe5\xa4\x8d t", PD_KIND_OTHER, 1, -1, -1, 0, "", "\xe5\x9b\x9e\xe5\xa4\x8d t" },
	{ "[RFC 1/3] t", PD_KIND_OTHER, 1, 1, 3, R, "", "t" },
	{ "[syzbot] WARNING in x", PD_KIND_OTHER, 1, -1, -1, 0, "syzbot", "WARNING in x" },
	{ "plain mail", PD_KIND_OTHER, 1, -1, -1, 0, "", "plain mail" },
	{ "[Buildroot] [PATCH 01/11] package: x", PD_KIND_PATCH, 1, 1, 11, 0, "Buildroot", "package: x" },
	{ "[Patch 2/2]: powerpc: x", PD_KIND_PATCH, 1, 2, 2, 0, "", "powerpc: x" },
	{ "Subject-less: [PATCH] not a prefix", PD_KIND_OTHER, 1, -1, -1, 0, "", "Subject-less: [PATCH] not a prefix" },
	{ "", PD_KIND_OTHER, 1, -1, -1, 0, "", "" },
	/* lore-kvmarm feature_prefix-shape_* and feature_odd-reply-prefix. */
	{ "RE: [PATCH RFC 11/14] arm64: Move", PD_KIND_REPLY, 1, 11, 14, R, "", "arm64: Move" },
	{ "RE: [PATCH V3] KVM: arm64: x", PD_KIND_REPLY, 3, -1, -1, 0, "", "KVM: arm64: x" },
	{ "[FINAL WARNING] kvmarm@lists going away", PD_KIND_OTHER, 1, -1, -1, 0, "FINAL|WARNING", "kvmarm@lists going away" },
	{ "[GIT PULL 00/23] KVM/arm updates for 5.6", PD_KIND_PULL, 1, 0, 23, 0, "", "KVM/arm updates for 5.6" },
	{ "[GIT PULL v2] coresight: x", PD_KIND_PULL, 2, -1, -1, 0, "", "coresight: x" },
	{ "[Issue] kvm/selftests/rseq_test failure", PD_KIND_OTHER, 1, -1, -1, 0, "Issue", "kvm/selftests/rseq_test failure" },
	{ "[PATCH -next 007/491] KVM: x", PD_KIND_PATCH, 1, 7, 491, 0, "-next", "KVM: x" },
	{ "[PATCH -next] KVM: x", PD_KIND_PATCH, 1, -1, -1, 0, "-next", "KVM: x" },
	{ "[PATCH AUTOSEL 4.14 42/95] KVM: x", PD_KIND_PATCH, 1, 42, 95, 0, "AUTOSEL|4.14", "KVM: x" },
	{ "[PATCH MANUALSEL 5.15 8/8] KVM: x", PD_KIND_PATCH, 1, 8, 8, 0, "MANUALSEL|5.15", "KVM: x" },
	{ "[PATCH MANUALSEL 5.4] selftests: x", PD_KIND_PATCH, 1, -1, -1, 0, "MANUALSEL|5.4", "selftests: x" },
	{ "[PATCH RESEND 0/2] KVM/arm64: x", PD_KIND_COVER, 1, 0, 2, S, "", "KVM/arm64: x" },
	{ "[PATCH RFC 0/7] Support KVM", PD_KIND_COVER, 1, 0, 7, R, "", "Support KVM" },
	{ "[PATCH RFC] KVM: arm64: x", PD_KIND_PATCH, 1, -1, -1, R, "", "KVM: arm64: x" },
	{ "[PATCH RFCv1 0/7] Support Async Page Fault", PD_KIND_COVER, 1, 0, 7, R, "", "Support Async Page Fault" },
	{ "[PATCH V2 00/16] arm64/cpufeature: x", PD_KIND_COVER, 2, 0, 16, 0, "", "arm64/cpufeature: x" },
	{ "[PATCH V5 (RESEND) 0/4] arm64: x", PD_KIND_COVER, 5, 0, 4, S, "", "arm64: x" },
	{ "[PATCH for-next] KVM: x", PD_KIND_PATCH, 1, -1, -1, 0, "for-next", "KVM: x" },
	{ "[PATCH for-stable-5.10 0/2] Backport", PD_KIND_COVER, 1, 0, 2, 0, "for-stable-5.10", "Backport" },
	{ "[PATCH kernel v2] KVM: PPC: x", PD_KIND_PATCH, 2, -1, -1, 0, "kernel", "KVM: PPC: x" },
	{ "[PATCH kvm-unit-tests 0/3] arm: x", PD_KIND_COVER, 1, 0, 3, 0, "kvm-unit-tests", "arm: x" },
	{ "[PATCH kvmtool v3 0/9] arm64: x", PD_KIND_COVER, 3, 0, 9, 0, "kvmtool", "arm64: x" },
	{ "[PATCH linux-next] KVM: x", PD_KIND_PATCH, 1, -1, -1, 0, "linux-next", "KVM: x" },
	{ "[PATCH rcu 02/27] arch/arm64/kvm: x", PD_KIND_PATCH, 1, 2, 27, 0, "rcu", "arch/arm64/kvm: x" },
	{ "[PATCH resend 0/2] KVM: x", PD_KIND_COVER, 1, 0, 2, S, "", "KVM: x" },
	{ "[PATCH stable 4.19 v2 0/2] arm64: x", PD_KIND_COVER, 2, 0, 2, 0, "stable|4.19", "arm64: x" },
	{ "[PATCH stable 4.19.y] arm64: x", PD_KIND_PATCH, 1, -1, -1, 0, "stable|4.19.y", "arm64: x" },
	{ "[PATCH stable v4.9 v2] arm64: x", PD_KIND_PATCH, 2, -1, -1, 0, "stable|v4.9", "arm64: x" },
	{ "[PATCH v2 17/18, KVMTOOL] update_headers: x", PD_KIND_PATCH, 2, 17, 18, 0, "KVMTOOL", "update_headers: x" },
	{ "[PATCH v2 kvmtool 00/10] arm64: x", PD_KIND_COVER, 2, 0, 10, 0, "kvmtool", "arm64: x" },
	{ "[PATCH v4 REPOST] KVM: x", PD_KIND_PATCH, 4, -1, -1, S, "", "KVM: x" },
	{ "[PATCH v5.5 00/30] KVM: x", PD_KIND_COVER, 1, 0, 30, 0, "v5.5", "KVM: x" },
	{ "[PATCH] arm64: KVM: x", PD_KIND_PATCH, 1, -1, -1, 0, "", "arm64: KVM: x" },
	{ "[PATCHv2] kvm: arm64: x", PD_KIND_PATCH, 2, -1, -1, 0, "", "kvm: arm64: x" },
	{ "[PULL kvm-unit-tests 0/3] arm/arm64: x", PD_KIND_PULL, 1, 0, 3, 0, "kvm-unit-tests", "arm/arm64: x" },
	{ "[Question about KVM on arm64] Consider x", PD_KIND_OTHER, 1, -1, -1, 0, "Question about KVM on arm64", "Consider x" },
	{ "[Question-GIC-v4.1] Plan", PD_KIND_OTHER, 1, -1, -1, 0, "Question-GIC-v4.1", "Plan" },
	{ "[REPOST][URGENT] kvmarm x", PD_KIND_OTHER, 1, -1, -1, S, "URGENT", "kvmarm x" },
	{ "[RESEND PATCH v2 0/2] vfio: x", PD_KIND_COVER, 2, 0, 2, S, "", "vfio: x" },
	{ "[RESEND RFC PATCH v1] arm64: x", PD_KIND_PATCH, 1, -1, -1, R | S, "", "arm64: x" },
	{ "[RFC 0/3] KVM/ARM: x", PD_KIND_OTHER, 1, 0, 3, R, "", "KVM/ARM: x" },
	{ "[RFC PATCH V2] kvm: x", PD_KIND_PATCH, 2, -1, -1, R, "", "kvm: x" },
	{ "[RFC PATCH kvmtool v3 0/3] SPE support", PD_KIND_COVER, 3, 0, 3, R, "kvmtool", "SPE support" },
	{ "[RFC PATCH v4 kvmtool 0/5] KVM SPE", PD_KIND_COVER, 4, 0, 5, R, "kvmtool", "KVM SPE" },
	{ "[RFC/RFT PATCH 0/3] arm64: x", PD_KIND_COVER, 1, 0, 3, R, "RFT", "arm64: x" },
	{ "[RFC kvmtool PATCH 0/2] PSCI", PD_KIND_COVER, 1, 0, 2, R, "kvmtool", "PSCI" },
	{ "[RFC v2 00/14] kvm/arm: x", PD_KIND_OTHER, 2, 0, 14, R, "", "kvm/arm: x" },
	{ "[URGENT] kvmarm x", PD_KIND_OTHER, 1, -1, -1, 0, "URGENT", "kvmarm x" },
	{ "[kbuild] Re: [PATCH 1/7] vfio: x", PD_KIND_REPLY, 1, 1, 7, 0, "kbuild", "vfio: x" },
	{ "[kvm-unit-tests BUG] lib/ldiv32.c x", PD_KIND_OTHER, 1, -1, -1, 0, "kvm-unit-tests|BUG", "lib/ldiv32.c x" },
	{ "[kvm-unit-tests PATCH RFC 4/4] Rename", PD_KIND_PATCH, 1, 4, 4, R, "kvm-unit-tests", "Rename" },
	{ "[kvm-unit-tests RFC 00/10] KVM: x", PD_KIND_OTHER, 1, 0, 10, R, "kvm-unit-tests", "KVM: x" },
	{ "[kvm-unit-tests RFC PATCH v2 00/19] arm64: x", PD_KIND_COVER, 2, 0, 19, R, "kvm-unit-tests", "arm64: x" },
	{ "[kvm-unit-tests v3 PATCH] Switch", PD_KIND_PATCH, 3, -1, -1, 0, "kvm-unit-tests", "Switch" },
	{ "[kvm-unit-tests] its-migration x", PD_KIND_OTHER, 1, -1, -1, 0, "kvm-unit-tests", "its-migration x" },
	{ "[kvmarm:next 29/32] arch/x.c:1:2: warning", PD_KIND_OTHER, 1, 29, 32, 0, "kvmarm|next", "arch/x.c:1:2: warning" },
	{ "[kvmtool PATCH 3/5] update headers: x", PD_KIND_PATCH, 1, 3, 5, 0, "kvmtool", "update headers: x" },
	{ "[kvmtool v2 3/5] update headers: x", PD_KIND_OTHER, 2, 3, 5, 0, "kvmtool", "update headers: x" },
	{ "[kvmtool][PATCH] arm64: x", PD_KIND_PATCH, 1, -1, -1, 0, "kvmtool", "arm64: x" },
	{ "[stable-rc] 5.12 arch/arm64: x", PD_KIND_OTHER, 1, -1, -1, 0, "stable-rc", "5.12 arch/arm64: x" },
	{ "[stable:PATCH] KVM: x", PD_KIND_PATCH, 1, -1, -1, 0, "stable", "KVM: x" },
	{ "[trivial PATCH] treewide: x", PD_KIND_PATCH, 1, -1, -1, 0, "trivial", "treewide: x" },
	{ "[v2 0/6] KVM: arm64: x", PD_KIND_OTHER, 2, 0, 6, 0, "", "KVM: arm64: x" },
	/* Other corpora: patchwork's net,v2 form and unusual case. */
	{ "[net,v2,1/2] net: x", PD_KIND_OTHER, 2, 1, 2, 0, "net", "net: x" },
	{ "[PATCH V2 0/4] PM / OPP: x", PD_KIND_COVER, 2, 0, 4, 0, "", "PM / OPP: x" },
	{ "[git pull] Please pull powerpc.git next branch", PD_KIND_PULL, 1, -1, -1, 0, "", "Please pull powerpc.git next branch" },
	{ "Re: [PATCH] Re: x", PD_KIND_REPLY, 1, -1, -1, 0, "", "Re: x" },
	{ "[PATCH unclosed", PD_KIND_OTHER, 1, -1, -1, 0, "", "[PATCH unclosed" },
	/* runs of blanks (a header folded after a blank) are one, as git says */
	{ "[PATCH 5/9] KVM: wait(),  not\tin \t hook ", PD_KIND_PATCH, 1, 5, 9, 0, "", "KVM: wait(), not in hook" },
};

static void
join_tags(const struct pd_subject *s, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < s->ntags; i++) {
		if (i)
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, s->tags[i], len - strlen(buf) - 1);
	}
}

static void
test_shapes(void **state)
{
	struct pd_subject s;
	char tags[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *w = &shapes[i];

		assert_int_equal(pd_subject_parse(w->subject, &s), 0);
		join_tags(&s, tags, sizeof(tags));
		if (pd_subject_kind(&s) != w->kind || s.version != w->version ||
		    s.cx != w->cx || s.cn != w->cn || s.flags != w->flags ||
		    strcmp(tags, w->tags) != 0 || strcmp(s.title, w->title) != 0)
			print_error("\"%s\": kind %s v%d %d/%d flags %u tags "
			    "\"%s\" title \"%s\"\n", w->subject,
			    pd_kind_name(pd_subject_kind(&s)), s.version, s.cx,
			    s.cn, s.flags, tags, s.title);
		assert_int_equal(pd_subject_kind(&s), w->kind);
		assert_int_equal(s.version, w->version);
		assert_int_equal(s.cx, w->cx);
		assert_int_equal(s.cn, w->cn);
		assert_int_equal(s.flags, w->flags);
		assert_string_equal(tags, w->tags);
		assert_string_equal(s.title, w->title);
		pd_subject_clear(&s);
	}
}

static void
test_prefix_and_limits(void **state)
{
	struct pd_subject s;
	char big[4096];

	(void)state;
	assert_int_equal(pd_subject_parse("Re: [kbuild] [PATCH v2 1/2] t", &s), 0);
	assert_string_equal(s.prefix, "[kbuild] [PATCH v2 1/2]");
	assert_int_equal(s.reply, 1);
	assert_int_equal(s.patch, 1);
	pd_subject_clear(&s);

	/* More tags than fit: the rest are dropped, nothing overflows. */
	assert_int_equal(pd_subject_parse("[a b c d e f g h i j k PATCH] t", &s), 0);
	assert_int_equal(s.ntags, PD_SUBJECT_MAXTAGS);
	assert_int_equal(s.patch, 1);
	pd_subject_clear(&s);

	/* A huge bracket group is one tag; NULL is an empty subject. */
	memset(big, 'x', sizeof(big));
	big[0] = '[';
	big[sizeof(big) - 3] = ']';
	big[sizeof(big) - 2] = 't';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pd_subject_parse(big, &s), 0);
	assert_string_equal(s.title, "t");
	assert_int_equal(s.ntags, 1);
	pd_subject_clear(&s);
	assert_int_equal(pd_subject_parse(NULL, &s), 0);
	assert_string_equal(s.title, "");
	pd_subject_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_prefix_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
