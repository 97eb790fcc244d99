/*
 * Fuzz target: the MAINTAINERS parser.  lib/maintainers.h loads from a
 * path only, so the input goes to a temporary file; then a fixed set of
 * paths and every F:/X: value of the input are matched against it.
 */
#include <string.h>
#include <unistd.h>

#include "patchdigest/error.h"
#include "../../lib/maintainers.h"
#include "fuzz.h"

static const char *const probe_paths[] = {
	"arch/arm64/kvm/arm.c", "arch/x86/kvm/vmx/vmx.c", "virt/kvm/kvm_main.c",
	"MAINTAINERS", "Documentation/virt/kvm/api.rst", "tools/testing/selftests/kvm/x.c",
	"", "/", "a", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "drivers/net/ethernet/intel/e1000/x.c",
	"include/linux/kvm_host.h", "*", "..", "a//b", "[", "\\",
};

static void
match_one(const pd_maint *m, const char *path)
{
	struct pd_maint_match mm;

	memset(&mm, 0, sizeof(mm));
	if (pd_maint_match(m, path, &mm) == 1) {
		PD_FUZZ_CHECK(mm.section >= 0 && (size_t)mm.section < pd_maint_nsections(m));
		pd_fuzz_touch(mm.name);
		pd_fuzz_touch(mm.pattern);
	}
}

/* Match the value of every "F:"/"X:" line (up to 64) as a path too. */
static void
match_values(const pd_maint *m, const uint8_t *data, size_t size)
{
	char path[512];
	size_t off = 0, end, n, tried = 0;

	while (off < size && tried < 64) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);

		end = nl == NULL ? size : (size_t)(nl - data);
		if (end - off > 3 && (data[off] == 'F' || data[off] == 'X') &&
		    data[off + 1] == ':') {
			n = end - off - 2;
			if (n >= sizeof(path))
				n = sizeof(path) - 1;
			memcpy(path, data + off + 2, n);
			path[n] = '\0';
			match_one(m, path + strspn(path, " \t"));
			tried++;
		}
		off = end + 1;
	}
}

int
pd_fuzz_maintainers(const uint8_t *data, size_t size)
{
	char tmpl[] = "/tmp/pd-fuzz-maint.XXXXXX", err[256];
	pd_maint *m = NULL;
	size_t off = 0;
	ssize_t w;
	int fd, rc;

	if ((fd = mkstemp(tmpl)) == -1)
		return 0;
	while (off < size && (w = write(fd, data + off, size - off)) > 0)
		off += (size_t)w;
	close(fd);
	if (off == size) {
		err[0] = '\0';
		rc = pd_maint_load(tmpl, NULL, &m, err, sizeof(err));
		PD_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		if (rc == 0) {
			PD_FUZZ_CHECK(m != NULL);
			for (size_t i = 0; i < sizeof(probe_paths) / sizeof(probe_paths[0]); i++)
				match_one(m, probe_paths[i]);
			match_values(m, data, size);
		}
		pd_maint_free(m);
	}
	unlink(tmpl);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_maintainers)
