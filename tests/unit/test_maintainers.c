/*
 * MAINTAINERS matching: known path -> section answers for the kernel 6.12
 * MAINTAINERS file (worked out by hand from the file, ranking as
 * scripts/get_maintainer.pl does: deepest F: pattern, X: excludes, N:
 * regexes at depth 0, THE REST last), and the pattern semantics on small
 * hand-written files.
 */
#include <sys/stat.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "patchdigest/error.h"
#include "../../lib/maintainers.h"

static char dir[] = "/tmp/pd-maint-XXXXXX";
static pd_maint *kernel;	/* linux-6.12 MAINTAINERS with its file list */

static const char *
shared(const char *rel, char *buf, size_t len)
{
	const char *s = getenv("PD_SHARED");

	assert_non_null(s);
	assert_true((size_t)snprintf(buf, len, "%s/%s", s, rel) < len);
	return buf;
}

static int
setup(void **state)
{
	char m[4096], f[4096], err[512];
	int rc;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	rc = pd_maint_load(shared("data/linux-6.12/MAINTAINERS", m, sizeof(m)),
	    shared("data/linux-6.12/files.txt.xz", f, sizeof(f)), &kernel, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "load: %s\n", err);
	return rc;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	pd_maint_free(kernel);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct {
	const char *path, *section, *pattern;
} known[] = {
	{ "arch/arm64/kvm/mmu.c", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: arch/arm64/kvm/" },
	{ "arch/arm64/kvm/hyp/nvhe/mem_protect.c", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: arch/arm64/kvm/" },
	{ "arch/arm64/include/asm/kvm_host.h", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: arch/arm64/include/asm/kvm*" },
	{ "arch/arm64/include/uapi/asm/kvm.h", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: arch/arm64/include/uapi/asm/kvm*" },
	{ "include/kvm/arm_vgic.h", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: include/kvm/arm_*" },
	{ "Documentation/virt/kvm/arm/hyp-abi.rst", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: Documentation/virt/kvm/arm/" },
	{ "Documentation/virt/kvm/devices/arm-vgic-v3.rst", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: Documentation/virt/kvm/devices/arm*" },
	{ "tools/testing/selftests/kvm/aarch64/arch_timer.c", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: tools/testing/selftests/kvm/aarch64/" },
	{ "tools/testing/selftests/kvm/lib/aarch64/processor.c", "KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)", "F: tools/testing/selftests/kvm/*/aarch64/" },
	{ "arch/arm64/kernel/cpufeature.c", "ARM64 PORT (AARCH64 ARCHITECTURE)", "F: arch/arm64/" },
	{ "arch/x86/kvm/vmx/vmx.c", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/kvm/*/" },
	{ "arch/x86/kvm/x86.c", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/kvm/" },
	{ "arch/x86/kvm/svm/sev.c", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/kvm/*/" },
	{ "arch/x86/include/asm/kvm_host.h", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/include/asm/kvm*" },
	{ "arch/x86/include/asm/vmx.h", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/include/asm/vmx*.h" },
	{ "arch/x86/include/uapi/asm/kvm.h", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: arch/x86/include/uapi/asm/kvm*" },
	{ "tools/testing/selftests/kvm/x86_64/hyperv_cpuid.c", "KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86)", "F: tools/testing/selftests/kvm/x86_64/" },
	{ "arch/x86/kvm/vmx/hyperv.c", "KVM X86 HYPER-V (KVM/hyper-v)", "F: arch/x86/kvm/vmx/hyperv.*" },
	{ "arch/x86/kvm/xen.c", "KVM X86 Xen (KVM/Xen)", "F: arch/x86/kvm/xen.*" },
	{ "arch/x86/kernel/kvm.c", "KVM PARAVIRT (KVM/paravirt)", "F: arch/x86/kernel/kvm.c" },
	{ "arch/x86/kernel/cpu/common.c", "X86 ARCHITECTURE (32-BIT AND 64-BIT)", "F: arch/x86/" },
	{ "virt/kvm/kvm_main.c", "KERNEL VIRTUAL MACHINE (KVM)", "F: virt/kvm/*" },
	{ "include/linux/kvm_host.h", "KERNEL VIRTUAL MACHINE (KVM)", "F: include/linux/kvm*" },
	{ "include/uapi/linux/kvm.h", "KERNEL VIRTUAL MACHINE (KVM)", "F: include/uapi/linux/kvm*" },
	{ "Documentation/virt/kvm/api.rst", "KERNEL VIRTUAL MACHINE (KVM)", "F: Documentation/virt/kvm/" },
	{ "tools/testing/selftests/kvm/lib/kvm_util.c", "KERNEL VIRTUAL MACHINE (KVM)", "F: tools/testing/selftests/kvm/" },
	{ "tools/testing/selftests/kvm/dirty_log_test.c", "KERNEL VIRTUAL MACHINE (KVM)", "F: tools/testing/selftests/kvm/" },
	{ "tools/testing/selftests/lib.mk", "KERNEL SELFTEST FRAMEWORK", "F: tools/testing/selftests/" },
	{ "tools/testing/selftests/timers/posix_timers.c", "HIGH-RESOLUTION TIMERS, TIMER WHEEL, CLOCKEVENTS", "F: tools/testing/selftests/timers/" },
	{ "arch/riscv/kvm/vcpu.c", "KERNEL VIRTUAL MACHINE FOR RISC-V (KVM/riscv)", "F: arch/riscv/kvm/" },
	{ "arch/s390/kvm/kvm-s390.c", "KERNEL VIRTUAL MACHINE for s390 (KVM/s390)", "F: arch/s390/kvm/" },
	{ "arch/powerpc/kvm/book3s.c", "KERNEL VIRTUAL MACHINE FOR POWERPC (KVM/powerpc)", "F: arch/powerpc/kvm/" },
	{ "arch/mips/kvm/mips.c", "KERNEL VIRTUAL MACHINE FOR MIPS (KVM/mips)", "F: arch/mips/kvm/" },
	{ "arch/loongarch/kvm/main.c", "KERNEL VIRTUAL MACHINE FOR LOONGARCH (KVM/LoongArch)", "F: arch/loongarch/kvm/" },
	{ "drivers/vfio/pci/vfio_pci_core.c", "VFIO DRIVER", "F: drivers/vfio/" },
	{ "drivers/vfio/pci/vfio_pci_zdev.c", "S390 VFIO-PCI DRIVER", "F: drivers/vfio/pci/vfio_pci_zdev.c" },
	/* depth 4 both: get_maintainer lists both; the literal pattern ranks first */
	{ "drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c", "VFIO HISILICON PCI DRIVER", "F: drivers/vfio/pci/hisilicon/" },
	/* bare directory pattern, no trailing slash: a directory by the file list */
	{ "drivers/vfio/pci/virtio/main.c", "VFIO VIRTIO PCI DRIVER", "F: drivers/vfio/pci/virtio" },
	{ "Documentation/virt/hyperv/vmbus.rst", "Hyper-V/Azure CORE AND DRIVERS", "F: Documentation/virt/hyperv" },
	/* '[ch]' class and '?' */
	{ "drivers/irqchip/irq-gic-v3.c", "ARM GENERIC INTERRUPT CONTROLLER DRIVERS", "F: drivers/irqchip/irq-gic*.[ch]" },
	{ "drivers/irqchip/irq-sifive-plic.c", "IRQCHIP DRIVERS", "F: drivers/irqchip/" },
	{ "drivers/input/misc/da7280.c", "DIALOG SEMICONDUCTOR DRIVERS", "F: drivers/input/misc/da72??.[ch]" },
	/* top level: an exact file beats THE REST; only THE REST covers CREDITS */
	{ "Makefile", "KERNEL BUILD + files below scripts/ (unless maintained elsewhere)", "F: Makefile" },
	{ "CREDITS", "THE REST", "F: *" },
	/* X: DOCUMENTATION excludes Documentation/ABI/, nothing else has it */
	{ "Documentation/ABI/README", "THE REST", "F: */" },
	/* X: the i.MX section excludes fsl-* in its own directory */
	{ "arch/arm64/boot/dts/freescale/fsl-ls1012a-frdm.dts", "ARM/FREESCALE LAYERSCAPE ARM ARCHITECTURE", "F: arch/arm64/boot/dts/freescale/fsl-*" },
	{ "arch/arm64/boot/dts/freescale/imx8mq-evk.dts", "ARM/FREESCALE IMX / MXC ARM ARCHITECTURE", "F: arch/arm64/boot/dts/freescale/" },
	/* N: regexes rank below every F: pattern but above THE REST */
	{ "drivers/bus/imx-weim.c", "ARM/FREESCALE IMX / MXC ARM ARCHITECTURE", "N: imx" },
	{ "drivers/bus/tegra-gmi.c", "TEGRA ARCHITECTURE SUPPORT", "N: [^a-z]tegra" },
	{ "drivers/bus/sunxi-rsb.c", "ARM/Allwinner sunXi SoC support", "N: sun[x456789]i" },
};

static void
test_kernel_known(void **state)
{
	struct pd_maint_match mm;
	int bad = 0;

	(void)state;
	assert_true(pd_maint_nsections(kernel) > 2500);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!pd_maint_match(kernel, known[i].path, &mm)) {
			print_error("%s: no section\n", known[i].path);
			bad++;
			continue;
		}
		if (strcmp(mm.name, known[i].section) != 0 ||
		    strcmp(mm.pattern, known[i].pattern) != 0) {
			print_error("%s: got \"%s\" (%s), want \"%s\" (%s)\n", known[i].path,
			    mm.name, mm.pattern, known[i].section, known[i].pattern);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* THE REST ("*" and "*<slash>") covers every file of the tree. */
static void
test_kernel_every_file(void **state)
{
	char f[4096], cmd[4200], line[4096];
	struct pd_maint_match mm;
	size_t n = 0, rest = 0;
	FILE *fp;

	(void)state;
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'",
	    shared("data/linux-6.12/files.txt.xz", f, sizeof(f)));
	assert_non_null(fp = popen(cmd, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(pd_maint_match(kernel, line, &mm), 1);
		n++;
		rest += mm.catchall;
		assert_int_equal(mm.catchall, strcmp(mm.name, "THE REST") == 0);
	}
	assert_int_equal(pclose(fp), 0);
	assert_true(n > 80000);
	/* most of the tree has a real maintainer */
	assert_true(rest * 10 < n);
}

static const char *
write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int k;
	char *p = path[k++ % 4];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return p;
}

static const char small[] =
    "List of maintainers\n"
    "\tF: preamble lines are indented and belong to no section\n"
    "\n"
    "ALPHA\n"
    "M:\tA <a@example.org>\n"
    "F:\tsrc/alpha\n"
    "F:\tinclude/alpha.h\n"
    "X:\tsrc/alpha/legacy/\n"
    "X:\tsrc/alpha/old.c\n"
    "\n"
    "ALPHA LEGACY\n"
    "F:\tsrc/alpha/legacy/\n"
    "\n"
    "GLOBS\n"
    "F:\tsrc/g?o*.[ch]\n"
    "F:\tdocs/*/glob/\n"
    "F:\tlib/*\n"
    "\n"
    "REGEX\n"
    "N:\t(?:foo|bar)\\d\n"
    "\n"
    "SRC\n"
    "F:\tsrc/\n"
    "\n"
    "THE REST\n"
    "F:\t*\n"
    "F:\t*/\n";

static const char *
match(const pd_maint *m, const char *path)
{
	struct pd_maint_match mm;

	return pd_maint_match(m, path, &mm) ? mm.name : "";
}

static void
test_small_semantics(void **state)
{
	const char *mf = write_file("MAINTAINERS", small);
	const char *files = write_file("files", "src/alpha/a.c\nsrc/alpha/legacy/b.c\n"
	    "include/alpha.h\n");
	char err[256];
	pd_maint *m;

	(void)state;
	assert_int_equal(pd_maint_load(mf, files, &m, err, sizeof(err)), 0);
	assert_int_equal(pd_maint_nsections(m), 6);
	/* "src/alpha" is a directory by the file list */
	assert_string_equal(match(m, "src/alpha/a.c"), "ALPHA");
	assert_string_equal(match(m, "src/alpha"), "SRC");
	assert_string_equal(match(m, "include/alpha.h"), "ALPHA");
	/* X: drops ALPHA for its excluded files */
	assert_string_equal(match(m, "src/alpha/legacy/b.c"), "ALPHA LEGACY");
	assert_string_equal(match(m, "src/alpha/old.c"), "SRC");
	/* '?', '*' and a class; a glob without '/' at the end keeps the depth */
	assert_string_equal(match(m, "src/glob.c"), "GLOBS");
	assert_string_equal(match(m, "src/gxo.h"), "GLOBS");
	assert_string_equal(match(m, "src/glob.s"), "SRC");
	assert_string_equal(match(m, "src/sub/glob.c"), "SRC");
	assert_string_equal(match(m, "lib/x.c"), "GLOBS");
	assert_string_equal(match(m, "lib/sub/x.c"), "THE REST");
	/* '*' in a directory glob crosses '/' */
	assert_string_equal(match(m, "docs/a/b/glob/x.rst"), "GLOBS");
	/* N: with Perl's (?: and \d */
	assert_string_equal(match(m, "misc/bar7.c"), "REGEX");
	assert_string_equal(match(m, "misc/bar.c"), "THE REST");
	assert_string_equal(match(m, "README"), "THE REST");
	pd_maint_free(m);

	/* without a file list a bare pattern is a file and a directory */
	assert_int_equal(pd_maint_load(mf, NULL, &m, err, sizeof(err)), 0);
	assert_string_equal(match(m, "src/alpha/a.c"), "ALPHA");
	assert_string_equal(match(m, "src/alpha"), "ALPHA");
	pd_maint_free(m);
}

/*
 * QEMU's MAINTAINERS underlines its headings and has a section of its own
 * whose glob starts with '*': the heading above the underline names the
 * section, and only a pattern of nothing but '*' and '/' is a catch-all.
 */
static const char qemu_style[] =
    "General Project Administration\n"
    "------------------------------\n"
    "M: A <a@example.org>\n"
    "\n"
    "All patches CC here\n"
    "F: *\n"
    "F: */\n"
    "\n"
    "Guest CPU cores (KVM)\n"
    "---------------------\n"
    "Overall KVM CPUs\n"
    "M: B <b@example.org>\n"
    "F: */*/kvm*\n"
    "\n"
    "Alpha Machines\n"
    "==============\n"
    "M: C <c@example.org>\n"
    "F: hw/alpha/\n"
    "F: hw/i386/\n";

static void
test_qemu_style(void **state)
{
	const char *mf = write_file("MAINTAINERS.qemu", qemu_style);
	char err[256];
	pd_maint *m;

	(void)state;
	assert_int_equal(pd_maint_load(mf, NULL, &m, err, sizeof(err)), 0);
	assert_int_equal(pd_maint_nsections(m), 4);
	assert_string_equal(match(m, "hw/alpha/typhoon.c"), "Alpha Machines");
	assert_string_equal(match(m, "hw/i386/kvmvapic.c"), "Overall KVM CPUs");
	assert_string_equal(match(m, "hw/i386/pc.c"), "Alpha Machines");
	assert_string_equal(match(m, "README.rst"), "All patches CC here");
	pd_maint_free(m);
}

/* A kernel tree around MAINTAINERS tells bare directories from files. */
static void
test_kernel_tree(void **state)
{
	const char *mf = write_file("MAINTAINERS", small);
	char path[600], err[256];
	pd_maint *m;

	(void)state;
	snprintf(path, sizeof(path), "%s/src", dir);
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/src/alpha", dir);
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/include", dir);
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	write_file("include/alpha.h", "");
	/* no Kconfig: not a kernel tree, bare patterns stay both */
	assert_int_equal(pd_maint_load(mf, NULL, &m, err, sizeof(err)), 0);
	assert_string_equal(match(m, "src/alpha"), "ALPHA");
	assert_string_equal(match(m, "include/alpha.h/x.c"), "ALPHA");
	pd_maint_free(m);

	write_file("Kconfig", "# the top of a kernel tree\n");
	assert_int_equal(pd_maint_load(mf, NULL, &m, err, sizeof(err)), 0);
	/* a directory in the tree: its files, not itself */
	assert_string_equal(match(m, "src/alpha/a.c"), "ALPHA");
	assert_string_equal(match(m, "src/alpha"), "SRC");
	/* a file in the tree: itself only */
	assert_string_equal(match(m, "include/alpha.h"), "ALPHA");
	assert_string_equal(match(m, "include/alpha.h/x.c"), "THE REST");
	pd_maint_free(m);
	snprintf(path, sizeof(path), "%s/Kconfig", dir);
	assert_int_equal(unlink(path), 0);
}

static void
test_xz_file_list(void **state)
{
	const char *mf = write_file("MAINTAINERS", small);
	char cmd[1400], xz[600], err[256];
	pd_maint *m;

	(void)state;
	write_file("files2", "src/alpha/a.c\n");
	snprintf(cmd, sizeof(cmd), "xz -c %s/files2 > %s/files2.xz", dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(xz, sizeof(xz), "%s/files2.xz", dir);
	assert_int_equal(pd_maint_load(mf, xz, &m, err, sizeof(err)), 0);
	assert_string_equal(match(m, "src/alpha/a.c"), "ALPHA");
	assert_string_equal(match(m, "src/alpha"), "SRC");
	pd_maint_free(m);

	/* a corrupt .xz file is an error, not an empty list */
	snprintf(cmd, sizeof(cmd), "head -c 40 %s > %s.bad", xz, xz);
	assert_int_equal(system(cmd), 0);
	strcat(xz, ".bad");
	assert_int_equal(pd_maint_load(mf, xz, &m, err, sizeof(err)), PD_EIO);
	assert_null(m);
	assert_non_null(strstr(err, "xz"));
}

static void
test_errors(void **state)
{
	const char *bad = write_file("BAD", "GOOD\nF:\ta/\n\nBROKEN\nM:\tx\nN:\tfoo(\n");
	char err[256], missing[600];
	pd_maint *m = (pd_maint *)&m;

	(void)state;
	assert_int_equal(pd_maint_load(bad, NULL, &m, err, sizeof(err)), PD_ECONFIG);
	assert_null(m);
	assert_non_null(strstr(err, "BAD:6:"));
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(pd_maint_load(missing, NULL, &m, err, sizeof(err)), PD_EIO);
	assert_non_null(strstr(err, "none"));
	pd_maint_free(NULL);
}

/* N: lines whose repetitions would make regcomp copy a subexpression
 * billions of times (a fuzz finding) are refused; ordinary ones load. */
static void
test_regex_repetitions(void **state)
{
	static const char *const hostile[] = {
		"bcm[9]?4++++++++++++++++++++++++++++++++++++++++++++++++912",
		"(((((((((((((x)+)+)+)+)+)+)+)+)+)+)+)+)+",
		"a{1000}{1000}",
		"a{,5000}",
		"a{99999999999999999999}",
	};
	char text[256], err[256];
	pd_maint *m;

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		snprintf(text, sizeof(text), "SEC\nM:\tx <x@example.org>\nN:\t%s\n",
		    hostile[i]);
		m = (pd_maint *)&m;
		assert_int_equal(pd_maint_load(write_file("HOSTILE", text), NULL, &m,
		    err, sizeof(err)), PD_ECONFIG);
		assert_null(m);
		assert_non_null(strstr(err, "HOSTILE:3:"));
	}
	m = NULL;
	assert_int_equal(pd_maint_load(write_file("FINE",
	    "SEC\nN:\tbcm[9]?4912\nN:\tx{2,40}y*z+\nN:\tqcom,sm(?:8[0-9]{3})?\n"),
	    NULL, &m, err, sizeof(err)), 0);
	assert_non_null(m);
	pd_maint_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_known),
		cmocka_unit_test(test_regex_repetitions),
		cmocka_unit_test(test_kernel_every_file),
		cmocka_unit_test(test_small_semantics),
		cmocka_unit_test(test_qemu_style),
		cmocka_unit_test(test_kernel_tree),
		cmocka_unit_test(test_xz_file_list),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
