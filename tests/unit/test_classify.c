/*
 * Subsystem and project: the shipped etc/subsystems.rules over real KVM-list
 * subjects (../shared/seeds), aliases, the built-in rule, rules-file errors,
 * and the lore-kvmarm corpus with rules and with the kernel's MAINTAINERS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"

static pd_classifier *rules;	/* etc/subsystems.rules */
static pd_classifier *kernel;	/* the same plus MAINTAINERS and its file list */
static char dir[] = "/tmp/pd-classify-XXXXXX";

static const char *
path_in(const char *env, const char *rel)
{
	static char buf[8][4096];
	static int k;
	char *p = buf[k++ % 8];
	const char *base = getenv(env);

	if (base == NULL && strcmp(env, "PD_SRC") == 0)
		base = ".";
	assert_non_null(base);
	assert_true((size_t)snprintf(p, sizeof(buf[0]), "%s/%s", base, rel) < sizeof(buf[0]));
	return p;
}

static int
setup(void **state)
{
	char err[512];

	(void)state;
	pd_msg_init();
	if (mkdtemp(dir) == NULL)
		return -1;
	if (pd_classifier_new(path_in("PD_SRC", "etc/subsystems.rules"), NULL, NULL,
	    &rules, err, sizeof(err)) != 0 ||
	    pd_classifier_new(path_in("PD_SRC", "etc/subsystems.rules"),
	    path_in("PD_SHARED", "data/linux-6.12/MAINTAINERS"),
	    path_in("PD_SHARED", "data/linux-6.12/files.txt.xz"), &kernel, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "classifier: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	pd_classifier_free(rules);
	pd_classifier_free(kernel);
	pd_msg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A message with this subject and, if diff is set, a patch of those files. */
static pd_msg *
mail(const char *subject, const char *const *files)
{
	char buf[8192];
	size_t n;
	pd_msg *m;

	n = (size_t)snprintf(buf, sizeof(buf), "From: A U Thor <author@example.org>\n"
	    "Subject: %s\nMessage-ID: <t%zu@example.org>\nDate: Mon, 1 Dec 2025 10:00:00 +0000\n"
	    "\nA change.\n\nSigned-off-by: A U Thor <author@example.org>\n---\n",
	    subject, strlen(subject));
	for (; files && *files; files++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -1 +1 @@\n-a\n+b\n",
		    *files, *files, *files, *files);
	assert_true(n < sizeof(buf));
	assert_int_equal(pd_msg_parse(buf, n, NULL, &m), 0);
	return m;
}

static void
expect(const pd_classifier *c, const char *subject, const char *const *files,
    const char *subsystem, const char *project, int *bad)
{
	struct pd_class cls;
	pd_msg *m = mail(subject, files);

	pd_classify(c, m, &cls);
	if (strcmp(cls.subsystem, subsystem) != 0 || strcmp(cls.project, project) != 0) {
		print_error("%s\n  got \"%s\"/%s (%s), want \"%s\"/%s\n", subject,
		    cls.subsystem, cls.project, cls.reason, subsystem, project);
		(*bad)++;
	}
	if (cls.subsystem[0] != '\0' && cls.reason[0] == '\0') {
		print_error("%s: no reason\n", subject);
		(*bad)++;
	}
	pd_msg_free(m);
}

/* Subjects of the "New:" entries of the digests in ../shared/seeds. */
static const struct {
	const char *subject, *subsystem, *project;
} seeds[] = {
	{ "[PATCH 0/2] KVM: SVM: Drop SEV-ES DebugSwap module param", "KVM: SVM", "linux" },
	{ "[PATCH 0/4] KVM: selftests: Fastops DIV testcases", "KVM: selftests", "linux" },
	{ "[PATCH 0/4] KVM: x86: Cleanup #MC and XCR0/XSS/PKRU handling", "KVM: x86", "linux" },
	{ "[PATCH 0/5] LoongArch: KVM: Enhancement about eiointc emulation", "LoongArch: KVM", "linux" },
	{ "[PATCH 0/6] KVM: LoongArch: selftests: Add timer test case", "LoongArch: KVM", "linux" },
	{ "[PATCH 1/1] KVM: TDX: Fix uninitialized error code for __tdx_bringup()", "KVM: TDX", "linux" },
	{ "[PATCH 1/4] KVM: SVM: Handle #MCs in guest outside of fastpath", "KVM: SVM", "linux" },
	{ "[PATCH RFC net-next 1/7] ice: add basic skeleton and TLV framework", "ice", "linux" },
	{ "[PATCH v1 0/8] i386/kvm: Add support for extended APIC register space", "i386/kvm", "qemu" },
	{ "[PATCH v14 01/22] KVM: x86: Introduce KVM_{G,S}ET_ONE_REG uAPIs support", "KVM: x86", "linux" },
	{ "[PATCH v2 0/2] vfio: Fixes in iommufd vfio token handling", "vfio", "linux" },
	{ "[PATCH v2 1/2] x86/virt/tdx: Retrieve TDX module version", "x86/virt/tdx", "linux" },
	{ "[PATCH v2 1/8] KVM: SVM: Explicitly mark vmcb01 dirty after modifying", "KVM: SVM", "linux" },
	{ "[PATCH v3 0/4] KVM: nVMX: Disallow access to vmcs12 fields that", "KVM: nVMX", "linux" },
	{ "[PATCH v3 01/36] KVM: arm64: Account for RES1 bits in", "KVM: arm64", "linux" },
	{ "[PATCH v3 1/6] hw/acpi: Make BIOS linker optional", "hw/acpi", "qemu" },
	{ "[PATCH v4 0/4] KVM: Speed up MMIO registrations", "KVM", "linux" },
	{ "[PATCH v4 0/5] KVM: selftests: Alignment fixes and arm64 MMU cleanup", "KVM: selftests", "linux" },
	{ "[PATCH v4 0/8] KVM: VMX: Rip out \"deferred nested VM-Exit updates\"", "KVM: VMX", "linux" },
	{ "[PATCH v4 0/8] x86/bugs: KVM: L1TF and MMIO Stale Data cleanups", "x86/bugs", "linux" },
	{ "[PATCH v4 00/14] target/arm: single-binary", "target/arm", "qemu" },
	{ "[PATCH v4 01/14] target/arm: Move TCG-specific code out of debug_helper.c", "target/arm", "qemu" },
	{ "[PATCH v4 1/4] KVM: arm64: vgic-init: Remove vgic_ready() macro", "KVM: arm64", "linux" },
	{ "[PATCH v4 1/5] KVM: arm64: selftests: Disable unused TTBR1_EL1 translations", "KVM: arm64", "linux" },
	{ "[PATCH v6 1/8] drivers/perf: riscv: Add SBI v3.0 flag", "drivers/perf", "linux" },
	{ "[PATCH v9 0/5] target/i386/kvm/pmu: PMU Enhancement, Bugfix and Cleanup", "target/i386/kvm/pmu", "qemu" },
	{ "[PATCH] KVM: nVMX: Mark APIC access page dirty when syncing vmcs12 pages", "KVM: nVMX", "linux" },
	{ "[PATCH] KVM: x86/mmu: Don't create SPTEs for addresses that aren't mappable", "KVM: x86/mmu", "linux" },
	{ "[PATCH] KVM: x86: Restrict writeback of SMI VCPU state", "KVM: x86", "linux" },
	{ "[PATCH] s390/mm: Use pointer from memcpy() call for assignment in", "s390/mm", "linux" },
	{ "[PATCH] vfio/pci: Fix INTx handling on legacy DisINTx- PCI devices", "vfio/pci", "linux" },
	{ "[PATCH] x86/hyper-v: Validate entire GVA range for non-canonical", "x86/hyper-v", "linux" },
	{ "[RFC PATCH 01/30] HACK: dma-buf: Introduce dma_buf_get_pfn_unlocked() kAPI", "dma-buf", "linux" },
	{ "[RFC PATCH v1 0/5] x86/boot, KVM: Move VMXON/VMXOFF handling from KVM to CPU lifecycle", "x86/boot", "linux" },
	{ "[kvm-unit-tests PATCH 0/2] x86/svm: Make nSVM MSR test useful", "x86/svm", "kvm-unit-tests" },
	{ "[kvm-unit-tests PATCH 01/16] lib: Add and use static_assert()", "lib", "kvm-unit-tests" },
	{ "[kvm-unit-tests PATCH v2 1/9] arm64: drop to EL1 if booted at EL2", "arm64", "kvm-unit-tests" },
	/* no "token:" and no files: a patch gets its project's name */
	{ "[PATCH v14 00/22] Enable CET Virtualization", "linux", "linux" },
};

static void
test_seed_subjects(void **state)
{
	int bad = 0;

	(void)state;
	assert_true(sizeof(seeds) / sizeof(seeds[0]) >= 30);
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		expect(rules, seeds[i].subject, NULL, seeds[i].subsystem, seeds[i].project, &bad);
	assert_int_equal(bad, 0);
}

static void
test_aliases_and_kinds(void **state)
{
	static const char *const qemu_files[] = { "target/arm/kvm.c", NULL };
	static const char *const qemu_docs[] = { "docs/system/arm/virt.rst", NULL };
	static const char *const arm_files[] = { "arch/arm64/kvm/arm.c",
	    "arch/arm64/kvm/mmu.c", "virt/kvm/kvm_main.c", NULL };
	int bad = 0;

	(void)state;
	expect(rules, "[PATCH] kvm: vmx: Fix a thing", NULL, "KVM: VMX", "linux", &bad);
	expect(rules, "[PATCH] KVM: ARM64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] kvm: arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH 2/3] KVM: arm/arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM/arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] arm64: KVM: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM: riscv: Fix a thing", NULL, "RISC-V: KVM", "linux", &bad);
	expect(rules, "[PATCH] kvm: s390: Fix a thing", NULL, "KVM: s390", "linux", &bad);
	/* spellings of the kvmarm archive, 2019-2023 */
	expect(rules, "[PATCH] KVM: arm64/mmu: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM: aarch64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM: arm: vgic: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] arm64/kvm: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH 0/3] kvm-arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM: powerpc: Fix a thing", NULL, "KVM: PPC", "linux", &bad);
	expect(rules, "[PATCH] kvm/x86: Fix a thing", NULL, "KVM: x86", "linux", &bad);
	expect(rules, "[PATCH] KVM: selftest: Fix a thing", NULL, "KVM: selftests", "linux", &bad);
	expect(rules, "[PATCH 0/2] kvm/selftests: Fix a thing", NULL, "KVM: selftests", "linux", &bad);
	expect(rules, "[PATCH] KVM: riscv/mmu: Fix a thing", NULL, "RISC-V: KVM", "linux", &bad);
	expect(rules, "[PATCH] KVM: mips/mmu: Fix a thing", NULL, "KVM: MIPS", "linux", &bad);
	expect(rules, "[PATCH 10/10] RFC: KVM: arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] TESTONLY: KVM: arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] ANDROID: KVM: arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	/* "x86/kvm:" is the guest side, not KVM: x86 */
	expect(rules, "[PATCH] x86/kvm: Fix a thing", NULL, "x86/kvm", "linux", &bad);
	expect(rules, "[PATCH] KVM: Fooarch: Fix a thing", NULL, "KVM: Fooarch", "linux", &bad);
	expect(rules, "[PATCH] kvm: fooarch: Fix a thing", NULL, "KVM: fooarch", "linux", &bad);
	/* tree tags, either side of PATCH */
	expect(rules, "[kvmtool PATCH 1/2] arm64: Fix a thing", NULL, "arm64", "kvmtool", &bad);
	expect(rules, "[PATCH kvmtool] Add emulation for CFI flash", NULL, "kvmtool", "kvmtool", &bad);
	expect(rules, "[PATCH kvm-unit-tests v2] s390x: Fix a thing", NULL, "s390x", "kvm-unit-tests", &bad);
	/* or a subject rule: the project as the title's first token */
	expect(rules, "[PATCH v2 0/3] kvmtool: Limit IPA space", NULL, "kvmtool", "kvmtool", &bad);
	expect(rules, "[PATCH] kvm-unit-tests: x86: Fix a thing", NULL, "kvm-unit-tests",
	    "kvm-unit-tests", &bad);
	/* QEMU by file path, whatever the subject says */
	expect(rules, "[PATCH] kvm: Fix a thing", qemu_files, "KVM", "qemu", &bad);
	expect(rules, "[PATCH 3/3] docs/system/arm/virt: Fix a thing", qemu_docs,
	    "docs/system/arm/virt", "qemu", &bad);
	/* non-patch messages keep the subject's subsystem */
	expect(rules, "Re: [PATCH] kvm: arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "Re: [PATCH v2 3/7] x86/sev: Fix a thing", NULL, "x86/sev", "linux", &bad);
	expect(rules, "[GIT PULL] KVM/arm64 fixes for 6.1", NULL, "", "linux", &bad);
	expect(rules, "Re: question about vgic", NULL, "", "linux", &bad);
	/* no token: path rules of the rules file */
	expect(rules, "[PATCH] Fix a thing", arm_files, "KVM: arm64", "linux", &bad);
	/* with MAINTAINERS the files decide, by most files */
	expect(kernel, "[PATCH] KVM: x86: Fix a thing", arm_files,
	    "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "linux", &bad);
	/* ... but not for another project's tree */
	expect(kernel, "[PATCH] target/arm: Fix a thing", qemu_files, "target/arm", "qemu", &bad);
	assert_int_equal(bad, 0);
}

/*
 * A title's "token:" chain without blanks ("arm64:kvm:", "perf,kvm/arm64:"),
 * and not what only looks like one.  Titles without a chain: the subsystem
 * most files name, whichever of its path rules each matched (the nVHE
 * series of 2020: 15 files of KVM: arm64 under three prefixes, 12 more of
 * arm64).
 */
static void
test_chain_and_files(void **state)
{
	static const char *const nvhe[] = { "arch/arm64/kvm/a.c", "arch/arm64/kvm/b.c",
	    "arch/arm64/include/asm/kvm_host.h", "arch/arm64/include/asm/kvm_mmu.h",
	    "arch/arm64/include/uapi/asm/kvm.h", "arch/arm64/kernel/a.c",
	    "arch/arm64/kernel/b.c", "arch/arm64/mm/c.c", "arch/arm64/Kconfig", NULL };
	static const char *const tie[] = { "arch/arm64/kvm/a.c", "arch/arm64/kernel/b.c",
	    NULL };
	int bad = 0;

	(void)state;
	expect(rules, "[PATCH] arm64:kvm: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] KVM:arm64: Fix a thing", NULL, "KVM: arm64", "linux", &bad);
	expect(rules, "[PATCH] perf,kvm/arm64: Add stat support", NULL, "perf", "linux", &bad);
	expect(rules, "[PATCH] x86/boot, KVM: Fix a thing", NULL, "x86/boot", "linux", &bad);
	expect(rules, "[PATCH] std::move: Fix a thing", NULL, "linux", "linux", &bad);
	expect(rules, "[PATCH] Fix a:b handling: here", NULL, "linux", "linux", &bad);
	expect(rules, "[PATCH] arm64:kvm fix", NULL, "linux", "linux", &bad);
	expect(rules, "[PATCH] 12:30: Fix a thing", NULL, "linux", "linux", &bad);
	expect(rules, "[PATCH] http://x.org: Fix a thing", NULL, "linux", "linux", &bad);
	expect(rules, "[kvmarm:next 29/32] arch/arm64/kvm/sys_regs.c:1544:13: warning: x",
	    NULL, "", "linux", &bad);
	expect(rules, "[PATCH 0/9] Opt-in always-on nVHE hypervisor", nvhe, "KVM: arm64",
	    "linux", &bad);
	/* a tie: the deeper match */
	expect(rules, "[PATCH] Fix a thing", tie, "KVM: arm64", "linux", &bad);
	assert_true(pd_classify_title_named("KVM: arm64: Fix"));
	assert_true(pd_classify_title_named("arm64:kvm: Fix"));
	assert_false(pd_classify_title_named("Opt-in always-on nVHE hypervisor"));
	assert_false(pd_classify_title_named("std::move: Fix"));
	assert_false(pd_classify_title_named(NULL));
	assert_int_equal(bad, 0);
}

static void
test_maintainers_catchall(void **state)
{
	static const char *const top[] = { "CREDITS", NULL };
	int bad = 0;

	(void)state;
	static const char *const old_tree[] = { "virt/kvm/arm/arm.c",
	    "virt/kvm/arm/mmu.c", "virt/kvm/arm/vgic/vgic.c", NULL };
	static const char *const mixed[] = { "virt/kvm/arm/arm.c",
	    "virt/kvm/arm/mmu.c", "virt/kvm/arm/vgic/vgic.c",
	    "arch/arm64/kvm/reset.c", NULL };
	static const char *const gic[] = { "CREDITS", "arm/psci.c",
	    "include/linux/irqchip/arm-gic-v3.h", NULL };

	/* only THE REST covers CREDITS: the subject is more telling */
	expect(kernel, "[PATCH] KVM: arm64: Fix a thing", top, "KVM: arm64", "linux", &bad);
	expect(kernel, "[PATCH] Fix a thing", top, "THE REST", "linux", &bad);
	/* files of a tree older than the MAINTAINERS file alone: the path rules */
	expect(kernel, "[PATCH 00/17] KVM/arm updates for 5.4", old_tree, "KVM",
	    "linux", &bad);
	/* with others a section claims: that section, as the tree's other postings */
	expect(kernel, "[PATCH 00/17] KVM/arm updates for 5.4", mixed,
	    "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "linux", &bad);
	expect(kernel, "[PATCH] Fix a thing", gic, "ARM GENERIC INTERRUPT "
	    "CONTROLLER DRIVERS", "linux", &bad);
	/* a subject rule still comes first */
	expect(kernel, "[PATCH] KVM: arm64: vgic: Fix a thing", gic, "KVM: arm64",
	    "linux", &bad);
	assert_int_equal(bad, 0);
}

extern const unsigned char pd_builtin_rules[];	/* the library's, generated */

/* The built-in rules are etc/subsystems.rules byte for byte. */
static void
builtin_is_file(void)
{
	FILE *fp = fopen(path_in("PD_SRC", "etc/subsystems.rules"), "rb");
	char file[65536];
	size_t n;

	assert_non_null(fp);
	n = fread(file, 1, sizeof(file), fp);
	assert_true(n > 0 && n < sizeof(file) && feof(fp));
	fclose(fp);
	assert_int_equal(strlen((const char *)pd_builtin_rules), n);
	assert_memory_equal(pd_builtin_rules, file, n);
}

static const char *
write_rules(const char *text)
{
	static char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/test.rules", dir);
	assert_non_null(fp = fopen(p, "w"));
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	return p;
}

/*
 * No classifier, or an empty rules file: the generic rule, the first
 * token, project linux.  No rules file configured: etc/subsystems.rules,
 * built in, which classifies as the file itself does.
 */
static void
test_builtin(void **state)
{
	static const char *const files[] = { "arch/arm64/kvm/arm.c", NULL };
	static const char *const qemu[] = { "hw/arm/virt.c", NULL };
	static const char *const subjects[] = { "[PATCH] KVM: arm64: Fix a thing",
	    "[kvm-unit-tests PATCH] x86/svm: Fix", "[PATCH 1/2] target/arm: Fix",
	    "Re: [PATCH] vfio/pci: Fix", "[PATCH 1/2] Fix a thing",
	    "[PATCH] kvm: vmx: Fix", "[PATCH] HACK: dma-buf: Fix", "Re: Fix a thing" };
	pd_classifier *c, *built;
	struct pd_class a, b;
	char err[128];
	int bad = 0;

	(void)state;
	assert_int_equal(pd_classifier_new(write_rules(""), NULL, NULL, &c, err,
	    sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		const pd_classifier *cl = i ? c : NULL;

		expect(cl, "[PATCH] KVM: arm64: Fix a thing", files, "KVM", "linux", &bad);
		expect(cl, "[kvm-unit-tests PATCH] x86/svm: Fix", NULL, "x86/svm", "linux", &bad);
		expect(cl, "[PATCH 1/2] target/arm: Fix", NULL, "target/arm", "linux", &bad);
		expect(cl, "Re: [PATCH] vfio/pci: Fix", NULL, "vfio/pci", "linux", &bad);
		expect(cl, "[PATCH 1/2] Fix a thing", NULL, "linux", "linux", &bad);
		expect(cl, "Re: Fix a thing", NULL, "", "linux", &bad);
	}
	builtin_is_file();
	assert_int_equal(pd_classifier_new(NULL, NULL, NULL, &built, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
		for (int f = 0; f < 3; f++) {
			pd_msg *m = mail(subjects[i], f == 0 ? NULL : f == 1 ? files : qemu);

			pd_classify(built, m, &a);
			pd_classify(rules, m, &b);
			assert_string_equal(a.subsystem, b.subsystem);
			assert_string_equal(a.project, b.project);
			if (strstr(b.reason, "subsystems.rules:") != NULL)
				assert_non_null(strstr(a.reason,
				    "subsystems.rules (built in):"));
			pd_msg_free(m);
		}
	expect(built, "[PATCH] kvm: vmx: Fix", NULL, "KVM: VMX", "linux", &bad);
	expect(built, "[PATCH] Fix a thing", qemu, "qemu", "qemu", &bad);
	assert_null(pd_classify_path(c, "arch/arm64/kvm/arm.c", err, sizeof(err)));
	assert_null(pd_classify_path(NULL, "arch/arm64/kvm/arm.c", err, sizeof(err)));
	pd_classifier_free(c);
	pd_classifier_free(built);
	pd_classifier_free(NULL);
	assert_int_equal(bad, 0);
}

static void
test_custom_rules(void **state)
{
	static const char *const docs[] = { "docs/a.rst", "docs/b.rst", "src/x.c", NULL };
	static const char *const other[] = { "vendor/y.c", NULL };
	pd_classifier *c;
	struct pd_class cls;
	char err[256];
	pd_msg *m;
	int bad = 0;

	(void)state;
	assert_int_equal(pd_classifier_new(write_rules(
	    "# a list of another project\n"
	    "default widget\n"
	    "tag gadget gadget   # trailing comment\n"
	    "file vendor/ vendorware\n"
	    "ignore WIP\n"
	    "subsystem net:* project=netw\n"
	    "subsystem core = Core Stuff\n"
	    "path docs/ Documentation\n"
	    "path src/ Sources\n"), NULL, NULL, &c, err, sizeof(err)), 0);
	expect(c, "[PATCH] WIP: core: Fix", NULL, "Core Stuff", "widget", &bad);
	expect(c, "[PATCH] NET: ipv4: Fix", NULL, "net: ipv4", "netw", &bad);
	expect(c, "[gadget PATCH] net: ipv4: Fix", NULL, "net: ipv4", "gadget", &bad);
	expect(c, "[PATCH] Fix a thing", docs, "Documentation", "widget", &bad);
	expect(c, "[PATCH] Fix a thing", other, "vendorware", "vendorware", &bad);
	expect(c, "[PATCH] misc: Fix", NULL, "misc", "widget", &bad);
	m = mail("[gadget PATCH] core: Fix", NULL);
	pd_classify(c, m, &cls);
	assert_non_null(strstr(cls.reason, "test.rules:7:"));
	assert_non_null(strstr(cls.reason, "test.rules:3:"));
	pd_msg_free(m);
	pd_classifier_free(c);
	assert_int_equal(bad, 0);
}

static void
test_rules_errors(void **state)
{
	static const struct {
		const char *text, *where;
	} badrules[] = {
		{ "tag a b\nfrobnicate x\n", ":2:" },
		{ "\n\ntag onlyone\n", ":3:" },
		{ "subsystem\n", ":1:" },
		{ "subsystem KVM:: = x\n", ":1:" },
		{ "subsystem KVM proj=x\n", ":1:" },
		{ "subsystem KVM =\n", ":1:" },
		{ "path docs/\n", ":1:" },
		{ "ignore\n", ":1:" },
		{ "default a b\n", ":1:" },
	};
	pd_classifier *c = NULL;
	char err[256], missing[600];

	(void)state;
	for (size_t i = 0; i < sizeof(badrules) / sizeof(badrules[0]); i++) {
		assert_int_equal(pd_classifier_new(write_rules(badrules[i].text), NULL, NULL,
		    &c, err, sizeof(err)), PD_ECONFIG);
		assert_null(c);
		if (strstr(err, badrules[i].where) == NULL)
			print_error("\"%s\": error \"%s\"\n", badrules[i].text, err);
		assert_non_null(strstr(err, badrules[i].where));
	}
	snprintf(missing, sizeof(missing), "%s/none.rules", dir);
	assert_int_equal(pd_classifier_new(missing, NULL, NULL, &c, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "none.rules"));
	assert_int_equal(pd_classifier_new(NULL, missing, NULL, &c, err, sizeof(err)), PD_EIO);
	assert_null(c);
	/* a device's endless line would take all memory: no file, no read */
	assert_int_equal(pd_classifier_new("/dev/zero", NULL, NULL, &c, err,
	    sizeof(err)), PD_EIO);
	assert_string_equal(err, "/dev/zero: not a regular file");
	assert_int_equal(pd_classifier_new(NULL, "/dev/zero", NULL, &c, err,
	    sizeof(err)), PD_EIO);
	assert_string_equal(err, "/dev/zero: not a regular file");
	assert_int_equal(pd_classifier_new(NULL, path_in("PD_SHARED",
	    "data/linux-6.12/MAINTAINERS"), "/dev/zero", &c, err, sizeof(err)), PD_EIO);
	assert_string_equal(err, "/dev/zero: not a regular file");
	assert_null(c);
	/* nor does a FIFO wait for a writer that never comes */
	char fifo[600];

	snprintf(fifo, sizeof(fifo), "%s/rules.fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pd_classifier_new(fifo, NULL, NULL, &c, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "rules.fifo: not a regular file"));
	assert_int_equal(pd_classifier_new(NULL, path_in("PD_SHARED",
	    "data/linux-6.12/MAINTAINERS"), fifo, &c, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "rules.fifo: not a regular file"));
	assert_null(c);
}

static void
test_classify_path(void **state)
{
	char why[128];
	const char *s;

	(void)state;
	s = pd_classify_path(kernel, "arch/arm64/kvm/vgic/vgic-init.c", why, sizeof(why));
	assert_non_null(s);
	assert_string_equal(s, "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)");
	assert_string_equal(why, "F: arch/arm64/kvm/");
	assert_null(pd_classify_path(rules, "arch/arm64/kvm/arm.c", why, sizeof(why)));
	assert_string_equal(why, "");
}

static pd_msg *
corpus_msg(const char *name)
{
	const char *p = path_in("PD_SHARED", "corpus/lore-kvmarm");
	char path[4200], *buf;
	size_t len;
	pd_msg *m;
	FILE *fp;
	long sz;

	snprintf(path, sizeof(path), "%s/%s", p, name);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((sz = ftell(fp)) > 0);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)sz));
	len = fread(buf, 1, (size_t)sz, fp);
	assert_int_equal(len, (size_t)sz);
	fclose(fp);
	assert_int_equal(pd_msg_parse(buf, len, NULL, &m), 0);
	free(buf);
	return m;
}

/* Every patch message of every _sets list has a subsystem. */
static void
test_corpus_every_patch(void **state)
{
	const char *sets = path_in("PD_SHARED", "corpus/lore-kvmarm/_sets");
	char cmd[4200], name[256];
	size_t patches = 0, bad = 0;
	FILE *fp;

	(void)state;
	snprintf(cmd, sizeof(cmd), "cat '%s'/*.txt | sort -u", sets);
	assert_non_null(fp = popen(cmd, "r"));
	while (fgets(name, sizeof(name), fp) != NULL) {
		struct pd_class a, b;
		pd_msg *m;

		name[strcspn(name, "\n")] = '\0';
		m = corpus_msg(name);
		pd_classify(rules, m, &a);
		pd_classify(kernel, m, &b);
		if (pd_msg_is_patch(m)) {
			patches++;
			if (a.subsystem[0] == '\0' || b.subsystem[0] == '\0') {
				print_error("%s: \"%s\": rules \"%s\", MAINTAINERS \"%s\"\n",
				    name, pd_msg_subject(m), a.subsystem, b.subsystem);
				bad++;
			}
		}
		pd_msg_free(m);
	}
	assert_int_equal(pclose(fp), 0);
	assert_true(patches > 150);
	assert_int_equal(bad, 0);
}

/* The most common subsystem among the patches of a thread. */
static void
thread_mode(const pd_classifier *c, const char *set, char *out, size_t outlen)
{
	struct { char name[128]; int n; } t[32];
	char path[4200], name[256];
	size_t nt = 0, best = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", path_in("PD_SHARED", "corpus/lore-kvmarm/_sets"), set);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(name, sizeof(name), fp) != NULL) {
		struct pd_class cls;
		pd_msg *m;
		size_t i;

		name[strcspn(name, "\n")] = '\0';
		m = corpus_msg(name);
		if (pd_msg_kind(m) == PD_KIND_PATCH) {
			pd_classify(c, m, &cls);
			for (i = 0; i < nt && strcmp(t[i].name, cls.subsystem) != 0; i++)
				;
			if (i == nt) {
				assert_true(nt < 32);
				snprintf(t[nt].name, sizeof(t[nt].name), "%s", cls.subsystem);
				t[nt++].n = 0;
			}
			t[i].n++;
		}
		pd_msg_free(m);
	}
	fclose(fp);
	assert_true(nt > 0);
	for (size_t i = 1; i < nt; i++)
		if (t[i].n > t[best].n)
			best = i;
	assert_true(strlen(t[best].name) < outlen);
	memcpy(out, t[best].name, strlen(t[best].name) + 1);
}

static void
test_thread_series_subsystem(void **state)
{
	char s[128];

	(void)state;
	/* 36 patches under arch/arm64/kvm/ (hyp/nvhe mostly) */
	thread_mode(kernel, "thread_v5-00-36-stage2-for-host.txt", s, sizeof(s));
	assert_string_equal(s, "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)");
	thread_mode(rules, "thread_v5-00-36-stage2-for-host.txt", s, sizeof(s));
	assert_string_equal(s, "KVM: arm64");
	/* kvm_init() rework: every arch, most patches under arch/x86/kvm/ */
	thread_mode(kernel, "thread_v2-00-50-kvm-init-rework.txt", s, sizeof(s));
	assert_string_equal(s, "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)");
	/* by subject most are plain "KVM:" */
	thread_mode(rules, "thread_v2-00-50-kvm-init-rework.txt", s, sizeof(s));
	assert_string_equal(s, "KVM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_subjects),
		cmocka_unit_test(test_aliases_and_kinds),
		cmocka_unit_test(test_chain_and_files),
		cmocka_unit_test(test_maintainers_catchall),
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_custom_rules),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_classify_path),
		cmocka_unit_test(test_corpus_every_patch),
		cmocka_unit_test(test_thread_series_subsystem),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
