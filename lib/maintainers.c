/*
 * MAINTAINERS matching, ranked like scripts/get_maintainer.pl:
 *  - F: "dir/" matches every file below dir; a bare "dir" does too when the
 *    file list (or the kernel tree around MAINTAINERS) says it is a
 *    directory; a bare file pattern matches itself.
 *  - F: globs: '*' matches any run of characters, '/' included, '?' one
 *    character, "[..]" a class; the pattern matches a prefix of the path,
 *    and unless it ends in '/' the path must have as many '/' as it has.
 *  - depth of a pattern = its '/' count, plus one unless it ends in '/';
 *    -1 for catch-all patterns of '*' and '/' alone ("THE REST").  N: regexes
 *    rank 0.  A section with a matching X: pattern is out for that path.
 * Literal patterns hang on a path-component trie (one hash table of edges),
 * globs on the trie node of their literal directory prefix, so one walk down
 * the path visits every pattern that can match it.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchdigest/error.h"
#include "maintainers.h"

#define MAX_CAND	64
#define MAXPATH		4096

enum { P_FILE, P_DIR, P_BOTH, P_GLOB };

struct mpat {
	char *text;		/* "F: arch/arm64/kvm/" as written */
	int section;
	int depth;
	int nslash;
	int dirglob;		/* glob ending in '/' */
	int skip;		/* glob: length of its literal start */
	char *need;		/* glob: its longest literal run after that, or NULL */
	unsigned char type;	/* P_* */
	unsigned char exclude;	/* X: */
	int next;		/* next pattern on the same trie node, -1 */
};

struct mregex {
	regex_t re;
	char *text;		/* "N: riscv" */
	char *lit;		/* a substring every match contains, or NULL */
	int section;
};

struct medge {
	uint32_t hash;
	int parent, child;	/* child 0 = empty slot (root is never a child) */
	char *name;
	size_t len;
};

struct mnode {
	int head;		/* first pattern, -1 */
	int isdir;
};

struct pd_maint {
	char **sec;
	size_t nsec, secap;
	struct mpat *pat;
	size_t npat, patcap;
	struct mnode *node;
	size_t nnode, nodecap;
	struct medge *edge;
	size_t nedge, edgecap;	/* edgecap: power of two */
	struct mregex *re;
	size_t nre, recap;
};

struct cand {
	int section, depth, kind, len;
	const char *text;
};

static int
grow(void *pp, size_t *cap, size_t need, size_t elsz)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	if ((np = reallocarray(*p, ncap, elsz)) == NULL)
		return PD_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static uint32_t
edge_hash(int parent, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)parent;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
child_find(const pd_maint *m, int parent, const char *s, size_t len, uint32_t h)
{
	size_t mask = m->edgecap - 1, i;

	if (m->edgecap == 0)
		return -1;
	for (i = h & mask; m->edge[i].child != 0; i = (i + 1) & mask) {
		const struct medge *e = &m->edge[i];

		if (e->hash == h && e->parent == parent && e->len == len &&
		    memcmp(e->name, s, len) == 0)
			return e->child;
	}
	return -1;
}

static int
edges_rehash(pd_maint *m)
{
	size_t ncap = m->edgecap ? m->edgecap * 2 : 1024, mask = ncap - 1;
	struct medge *ne;

	if ((ne = calloc(ncap, sizeof(*ne))) == NULL)
		return PD_ENOMEM;
	for (size_t i = 0; i < m->edgecap; i++) {
		size_t j;

		if (m->edge[i].child == 0)
			continue;
		for (j = m->edge[i].hash & mask; ne[j].child != 0; j = (j + 1) & mask)
			;
		ne[j] = m->edge[i];
	}
	free(m->edge);
	m->edge = ne;
	m->edgecap = ncap;
	return 0;
}

static int
node_new(pd_maint *m)
{
	if (grow(&m->node, &m->nodecap, m->nnode + 1, sizeof(*m->node)) != 0)
		return PD_ENOMEM;
	m->node[m->nnode].head = -1;
	m->node[m->nnode].isdir = 0;
	return (int)m->nnode++;
}

/* The child of parent named s[0..len), created if missing. */
static int
child_get(pd_maint *m, int parent, const char *s, size_t len)
{
	uint32_t h = edge_hash(parent, s, len);
	struct medge *e;
	size_t i;
	int c;

	if ((c = child_find(m, parent, s, len, h)) >= 0)
		return c;
	if ((m->nedge + 1) * 2 > m->edgecap && edges_rehash(m) != 0)
		return PD_ENOMEM;
	if ((c = node_new(m)) < 0)
		return c;
	for (i = h & (m->edgecap - 1); m->edge[i].child != 0; i = (i + 1) & (m->edgecap - 1))
		;
	e = &m->edge[i];
	if ((e->name = strndup(s, len)) == NULL)
		return PD_ENOMEM;
	e->hash = h;
	e->parent = parent;
	e->child = c;
	e->len = len;
	m->nedge++;
	return c;
}

/* Node of the directory components of s[0..len) ("a/b/c" -> a, b, c). */
static int
node_path(pd_maint *m, const char *s, size_t len)
{
	int n = 0;

	while (len > 0) {
		const char *slash = memchr(s, '/', len);
		size_t l = slash ? (size_t)(slash - s) : len;

		if (l > 0 && !(l == 1 && s[0] == '.') && (n = child_get(m, n, s, l)) < 0)
			return n;
		if (slash == NULL)
			break;
		len -= l + 1;
		s += l + 1;
	}
	return n;
}

static int
count_char(const char *s, int c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The longest run of plain characters of a glob (outside classes). */
static char *
glob_need(const char *g)
{
	const char *best = NULL, *run = NULL;
	size_t bl = 0;

	for (const char *s = g;; s++) {
		if (*s != '\0' && strchr("*?[", *s) == NULL) {
			if (run == NULL)
				run = s;
			continue;
		}
		if (run != NULL && (size_t)(s - run) > bl) {
			best = run;
			bl = (size_t)(s - run);
		}
		run = NULL;
		if (*s == '[' && strchr(s + 1 + (s[1] == ']'), ']') != NULL)
			s = strchr(s + 1 + (s[1] == ']'), ']');
		if (*s == '\0')
			break;
	}
	errno = 0;
	return bl > 1 ? strndup(best, bl) : NULL;
}

static int
add_pattern(pd_maint *m, int section, int exclude, const char *value)
{
	size_t vlen = strlen(value), wild = strcspn(value, "*?[");
	struct mpat *p;
	int node;

	if (grow(&m->pat, &m->patcap, m->npat + 1, sizeof(*m->pat)) != 0)
		return PD_ENOMEM;
	p = &m->pat[m->npat];
	memset(p, 0, sizeof(*p));
	if (asprintf(&p->text, "%c: %s", exclude ? 'X' : 'F', value) < 0) {
		p->text = NULL;
		return PD_ENOMEM;
	}
	p->section = section;
	p->exclude = exclude != 0;
	p->nslash = count_char(value, '/');
	p->depth = p->nslash + (value[vlen - 1] != '/');
	if (strspn(value, "*/") == vlen)
		p->depth = -1;
	if (wild < vlen) {
		size_t dirlen = wild;

		while (dirlen > 0 && value[dirlen - 1] != '/')
			dirlen--;
		p->type = P_GLOB;
		p->dirglob = value[vlen - 1] == '/';
		p->skip = (int)wild;
		if ((p->need = glob_need(value + wild)) == NULL && errno == ENOMEM) {
			free(p->text);
			return PD_ENOMEM;
		}
		node = node_path(m, value, dirlen);
	} else {
		p->type = value[vlen - 1] == '/' ? P_DIR : P_BOTH;
		node = node_path(m, value, vlen);
	}
	if (node < 0) {
		free(p->text);
		free(p->need);
		return node;
	}
	p->next = m->node[node].head;
	m->node[node].head = (int)m->npat++;
	return 0;
}

/*
 * POSIX ERE for a MAINTAINERS N: value (a Perl regex matched with /x):
 * drop blanks, \d -> [0-9], (?: -> (.
 */
static char *
regex_translate(const char *v)
{
	char *out = malloc(strlen(v) * 5 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t')
			continue;
		if (v[0] == '\\' && (v[1] == 'd' || v[1] == 'D')) {
			o = stpcpy(o, v[1] == 'd' ? "[0-9]" : "[^0-9]");
			v++;
		} else if (v[0] == '(' && v[1] == '?' && v[2] == ':') {
			*o++ = '(';
			v += 2;
		} else if (v[0] == '\\' && v[1] != '\0') {
			*o++ = *v++;
			*o++ = *v;
		} else
			*o++ = *v;
	}
	*o = '\0';
	return out;
}

/*
 * A literal every match of re must contain (the longest plain run), so most
 * paths are rejected by strstr() before regexec().  NULL when the regex has
 * alternation or groups.
 */
static char *
regex_literal(const char *re)
{
	char best[128] = "", run[128];
	size_t n = 0, bn = 0;

	if (strpbrk(re, "|()") != NULL)
		return NULL;
	for (const char *s = re;; s++) {
		int brk = 0, keep_last = 1;

		switch (*s) {
		case '\0': case '^': case '$': case '.': case '+':
			brk = 1;
			break;
		case '?': case '*': case '{':
			brk = 1;
			keep_last = 0;
			break;
		case '[':
			brk = 1;
			s += s[1] == ']' ? 2 : 1;
			while (*s && *s != ']')
				s++;
			if (*s == '\0')
				s--;
			break;
		case '\\':
			if (s[1] == '\0' || strchr("wWsSbB<>`'", s[1]) != NULL) {
				brk = 1;
				s += s[1] != '\0';
				break;
			}
			s++;
			/* FALLTHROUGH */
		default:
			if (n + 1 < sizeof(run))
				run[n++] = *s;
			continue;
		}
		if (brk) {
			if (!keep_last && n > 0)
				n--;
			if (n > bn) {
				memcpy(best, run, n);
				bn = n;
				best[bn] = '\0';
			}
			n = 0;
		}
		if (*s == '{')
			while (s[1] && *s != '}')
				s++;
		if (*s == '\0')
			break;
	}
	return bn > 0 ? strdup(best) : NULL;
}

/*
 * glibc's regcomp copies a subexpression once per repetition it expands
 * ({m,n}; + as a copy followed by *), and nested repetitions multiply, so
 * a few hundred bytes such as "a++++...+" ask it for gigabytes.  The
 * product of the repetition counts of every quantifier character, wherever
 * it stands (escaped or in brackets too: counting too many only refuses
 * sooner), bounds those copies.  The kernel's N: lines stay under 10.
 */
#define RE_MAX_COPIES	4096UL

static int
regex_too_big(const char *re)
{
	unsigned long copies = 1, n;
	char *end;

	for (const char *s = re; *s; s++) {
		if (*s == '*' || *s == '+' || *s == '?')
			n = 2;
		else if (*s == '{') {
			n = 1;
			for (const char *d = s + 1; *d && *d != '}'; d++)
				if (isdigit((unsigned char)*d)) {
					unsigned long v = strtoul(d, &end, 10);

					if (v >= RE_MAX_COPIES)
						return 1;
					n = v + 1 > n ? v + 1 : n;
					d = end - 1;
				}
			n = n > 2 ? n : 2;
		} else
			continue;
		if (copies > RE_MAX_COPIES / n)
			return 1;
		copies *= n;
	}
	return 0;
}

static int
add_regex(pd_maint *m, int section, const char *value)
{
	struct mregex *r;
	char *ere;

	if (grow(&m->re, &m->recap, m->nre + 1, sizeof(*m->re)) != 0)
		return PD_ENOMEM;
	if ((ere = regex_translate(value)) == NULL)
		return PD_ENOMEM;
	r = &m->re[m->nre];
	memset(r, 0, sizeof(*r));
	if (regex_too_big(ere) ||
	    regcomp(&r->re, ere, REG_EXTENDED | REG_NOSUB) != 0) {
		free(ere);
		return PD_ECONFIG;
	}
	r->lit = regex_literal(ere);
	free(ere);
	if (asprintf(&r->text, "N: %s", value) < 0) {
		regfree(&r->re);
		free(r->lit);
		return PD_ENOMEM;
	}
	r->section = section;
	m->nre++;
	return 0;
}

static int
add_section(pd_maint *m, const char *title)
{
	if (grow(&m->sec, &m->secap, m->nsec + 1, sizeof(*m->sec)) != 0)
		return PD_ENOMEM;
	if ((m->sec[m->nsec] = strdup(title)) == NULL)
		return PD_ENOMEM;
	return (int)m->nsec++;
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* One line of MAINTAINERS; *cur is the open section, title the line before. */
static int
parse_line(pd_maint *m, char *line, char **title, int *cur)
{
	char *v;

	rtrim(line);
	if (line[0] == '\0') {
		*cur = -1;
		free(*title);
		*title = NULL;
		return 0;
	}
	if (!(line[0] >= 'A' && line[0] <= 'Z' && line[1] == ':')) {
		*cur = -1;
		/* QEMU's file underlines its headings: the title is above */
		if (*title != NULL && strspn(line, "-=") == strlen(line))
			return 0;
		free(*title);
		return (*title = strdup(line)) == NULL ? PD_ENOMEM : 0;
	}
	if (*cur < 0) {
		if (*title == NULL)
			return 0;	/* a tag outside any section */
		if ((*cur = add_section(m, *title)) < 0)
			return *cur;
	}
	for (v = line + 2; *v == ' ' || *v == '\t'; v++)
		;
	if (*v == '\0')
		return 0;
	switch (line[0]) {
	case 'F': return add_pattern(m, *cur, 0, v);
	case 'X': return add_pattern(m, *cur, 1, v);
	case 'N': return add_regex(m, *cur, v);
	default: return 0;
	}
}

FILE *
pd_maint_fopen(const char *path, int devices, char *errbuf, size_t errlen)
{
	FILE *fp;
	struct stat sb;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 ||
	    !(S_ISREG(sb.st_mode) || (devices && S_ISCHR(sb.st_mode)))) {
		snprintf(errbuf, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, 0) != 0 || (fp = fdopen(fd, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return fp;
}

static int
read_maintainers(pd_maint *m, const char *path, char *errbuf, size_t errlen)
{
	FILE *fp;
	char *line = NULL, *title = NULL;
	size_t cap = 0, lineno = 0;
	int cur = -1, rc = 0;

	if ((fp = pd_maint_fopen(path, 0, errbuf, errlen)) == NULL)
		return PD_EIO;
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		if ((rc = parse_line(m, line, &title, &cur)) != 0) {
			snprintf(errbuf, errlen, "%s:%zu: %s", path, lineno,
			    rc == PD_ECONFIG ? "bad N: regex (or one with too many repetitions)" :
			    pd_strerror(rc));
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		rc = PD_EIO;
	}
out:
	free(line);
	free(title);
	fclose(fp);
	return rc;
}

/* Mark the trie nodes that are directories of path. */
static void
mark_dirs(pd_maint *m, const char *path)
{
	int n = 0;

	if (strncmp(path, "./", 2) == 0)
		path += 2;
	for (const char *s = path, *slash; (slash = strchr(s, '/')) != NULL; s = slash + 1) {
		size_t l = (size_t)(slash - s);

		n = child_find(m, n, s, l, edge_hash(n, s, l));
		if (n < 0)
			return;
		m->node[n].isdir = 1;
	}
}

/* "xz -dc -- path" on a pipe, no shell. */
static FILE *
xz_open(const char *path, pid_t *pid)
{
	int fds[2], devnull;
	FILE *fp;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return NULL;
	if ((*pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(fds[1], 1) < 0)
			_exit(127);
		execlp("xz", "xz", "-dc", "--", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((fp = fdopen(fds[0], "r")) == NULL) {
		close(fds[0]);
		waitpid(*pid, NULL, 0);
	}
	return fp;
}

struct flist {
	FILE *fp;
	pid_t pid;		/* xz, or -1 */
};

/*
 * Open the file list; an xz one through "xz -dc" started now, so that it
 * decompresses (into a large pipe) while MAINTAINERS is parsed.
 */
static int
files_open(struct flist *fl, const char *path, char *errbuf, size_t errlen)
{
	unsigned char magic[6];
	int xz;

	fl->pid = -1;
	if ((fl->fp = pd_maint_fopen(path, 0, errbuf, errlen)) == NULL)
		return PD_EIO;
	xz = fread(magic, 1, sizeof(magic), fl->fp) == sizeof(magic) &&
	    memcmp(magic, "\xfd" "7zXZ\0", 6) == 0;
	if (!xz) {
		rewind(fl->fp);
		return 0;
	}
	fclose(fl->fp);
	if ((fl->fp = xz_open(path, &fl->pid)) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return PD_EIO;
	}
	(void)fcntl(fileno(fl->fp), F_SETPIPE_SZ, 1 << 20);
	return 0;
}

/* Read the list (m may be NULL: just drain it) and reap xz. */
static int
files_close(pd_maint *m, struct flist *fl, const char *path, char *errbuf, size_t errlen)
{
	char *line = NULL, *prev = NULL;
	size_t cap = 0, pcap = 0, plen = 0;
	int st, rc = 0;

	while (m != NULL && getline(&line, &cap, fl->fp) != -1) {
		char *slash;
		size_t dlen;

		rtrim(line);
		/* sorted lists repeat directories: walk each one once */
		if ((slash = strrchr(line, '/')) == NULL)
			continue;
		dlen = (size_t)(slash - line) + 1;
		if (dlen == plen && memcmp(line, prev, dlen) == 0)
			continue;
		mark_dirs(m, line);
		if (dlen > pcap) {
			free(prev);
			pcap = cap;
			if ((prev = malloc(pcap)) == NULL) {
				pcap = plen = 0;
				continue;
			}
		}
		memcpy(prev, line, dlen);
		plen = dlen;
	}
	free(prev);
	if (m != NULL && ferror(fl->fp)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		rc = PD_EIO;
	}
	free(line);
	fclose(fl->fp);
	if (fl->pid > 0) {
		while (waitpid(fl->pid, &st, 0) < 0)
			if (errno != EINTR) {
				st = -1;
				break;
			}
		if (m != NULL && rc == 0 &&
		    !(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			snprintf(errbuf, errlen, "%s: xz -dc failed", path);
			rc = PD_EIO;
		}
	}
	return rc;
}

/* Bare literal patterns become directory or file patterns. */
static void
resolve_bare(pd_maint *m)
{
	for (size_t n = 0; n < m->nnode; n++)
		for (int i = m->node[n].head; i >= 0; i = m->pat[i].next)
			if (m->pat[i].type == P_BOTH)
				m->pat[i].type = m->node[n].isdir ? P_DIR : P_FILE;
}

/*
 * Without a file list, a kernel tree around MAINTAINERS tells the same:
 * stat each bare pattern there.  A pattern naming nothing in the tree keeps
 * matching as a file and as a directory.
 */
static void
resolve_tree(pd_maint *m, const char *path)
{
	const char *slash = strrchr(path, '/');
	int rootlen = slash ? (int)(slash - path) : 1;
	const char *root = slash ? path : ".";
	char p[MAXPATH];
	struct stat sb;
	int n;

	n = snprintf(p, sizeof(p), "%.*s/Kconfig", rootlen, root);
	if (n < 0 || (size_t)n >= sizeof(p) || stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;		/* not a kernel tree */
	for (size_t i = 0; i < m->npat; i++) {
		if (m->pat[i].type != P_BOTH)
			continue;
		n = snprintf(p, sizeof(p), "%.*s/%s", rootlen, root, m->pat[i].text + 3);
		if (n < 0 || (size_t)n >= sizeof(p) || stat(p, &sb) != 0)
			continue;
		m->pat[i].type = S_ISDIR(sb.st_mode) ? P_DIR : P_FILE;
	}
}

int
pd_maint_load(const char *path, const char *files, pd_maint **out,
    char *errbuf, size_t errlen)
{
	struct flist fl = { NULL, -1 };
	pd_maint *m;
	int rc;

	*out = NULL;
	if (errlen > 0)
		errbuf[0] = '\0';
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return PD_ENOMEM;
	if (node_new(m) < 0) {
		rc = PD_ENOMEM;
		goto out;
	}
	if (files != NULL && (rc = files_open(&fl, files, errbuf, errlen)) != 0)
		goto out;
	rc = read_maintainers(m, path, errbuf, errlen);
	if (fl.fp != NULL) {
		int frc = files_close(rc == 0 ? m : NULL, &fl, files, errbuf, errlen);

		rc = rc ? rc : frc;
		if (rc == 0)
			resolve_bare(m);
	} else if (rc == 0)
		resolve_tree(m, path);
	if (rc != 0)
		goto out;
	*out = m;
	m = NULL;
out:
	pd_maint_free(m);
	return rc;
}

void
pd_maint_free(pd_maint *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nsec; i++)
		free(m->sec[i]);
	for (size_t i = 0; i < m->npat; i++) {
		free(m->pat[i].text);
		free(m->pat[i].need);
	}
	for (size_t i = 0; i < m->edgecap; i++)
		free(m->edge[i].name);
	for (size_t i = 0; i < m->nre; i++) {
		regfree(&m->re[i].re);
		free(m->re[i].text);
		free(m->re[i].lit);
	}
	free(m->sec);
	free(m->pat);
	free(m->node);
	free(m->edge);
	free(m->re);
	free(m);
}

size_t
pd_maint_nsections(const pd_maint *m)
{
	return m ? m->nsec : 0;
}

/* get_maintainer.pl's F: glob, anchored at the start, open at the end. */
static int
gmatch(const char *p, const char *s)
{
	for (;;) {
		switch (*p) {
		case '\0':
			return 1;
		case '*':
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			do {
				if (gmatch(p, s))
					return 1;
			} while (*s++ != '\0');
			return 0;
		case '?':
			if (*s == '\0')
				return 0;
			break;
		case '[': {
			const char *q = p + 1;
			int neg = 0, hit = 0;

			if (*q == '^' || *q == '!') {
				neg = 1;
				q++;
			}
			if (strchr(q + (*q == ']'), ']') == NULL)
				goto literal;
			do {
				if (q[1] == '-' && q[2] != ']' && q[2] != '\0') {
					hit |= *s >= q[0] && *s <= q[2];
					q += 3;
				} else
					hit |= *s == *q++;
			} while (*q != ']');
			if (*s == '\0' || hit == neg)
				return 0;
			p = q;
			break;
		}
		default:
		literal:
			if (*p != *s)
				return 0;
			break;
		}
		p++;
		s++;
	}
}

static void
cand_add(struct cand *c, int *nc, int section, int depth, int kind, const char *text)
{
	if (*nc >= MAX_CAND)
		return;
	c[*nc].section = section;
	c[*nc].depth = depth;
	c[*nc].kind = kind;
	c[*nc].len = (int)strlen(text);
	c[*nc].text = text;
	(*nc)++;
}

static void
visit(const pd_maint *m, int node, int final, const char *path, int nslash,
    struct cand *c, int *nc, int *excl, int *nx)
{
	for (int i = m->node[node].head; i >= 0; i = m->pat[i].next) {
		const struct mpat *p = &m->pat[i];
		int hit;

		switch (p->type) {
		case P_FILE: hit = final; break;
		case P_DIR: hit = !final; break;
		case P_BOTH: hit = 1; break;
		default:
			/* the literal start first: most globs fail there */
			hit = !final && strncmp(p->text + 3, path, (size_t)p->skip) == 0 &&
			    (p->need == NULL || strstr(path + p->skip, p->need) != NULL) &&
			    gmatch(p->text + 3 + p->skip, path + p->skip) &&
			    (p->dirglob || p->nslash == nslash);
			break;
		}
		if (!hit)
			continue;
		if (p->exclude) {
			if (*nx < MAX_CAND)
				excl[(*nx)++] = p->section;
		} else
			cand_add(c, nc, p->section, p->depth, p->type == P_GLOB, p->text);
	}
}

static int
cand_better(const struct cand *a, const struct cand *b)
{
	if (a->depth != b->depth)
		return a->depth > b->depth;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	if (a->len != b->len)
		return a->len > b->len;
	return a->section < b->section;
}

int
pd_maint_match(const pd_maint *m, const char *path, struct pd_maint_match *out)
{
	struct cand c[MAX_CAND];
	int excl[MAX_CAND], nc = 0, nx = 0, node = 0, nslash, best = -1;
	const char *s;

	memset(out, 0, sizeof(*out));
	out->section = -1;
	/* longer "paths" are junk: this bounds the glob work */
	if (m == NULL || path == NULL || strnlen(path, MAXPATH + 1) > MAXPATH)
		return 0;
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	nslash = count_char(path, '/');
	visit(m, 0, 0, path, nslash, c, &nc, excl, &nx);
	for (s = path;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);

		if ((node = child_find(m, node, s, l, edge_hash(node, s, l))) < 0)
			break;
		visit(m, node, slash == NULL, path, nslash, c, &nc, excl, &nx);
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	for (size_t i = 0; i < m->nre; i++) {
		const struct mregex *r = &m->re[i];

		if (r->lit != NULL && strstr(path, r->lit) == NULL)
			continue;
		if (regexec(&r->re, path, 0, NULL, 0) == 0)
			cand_add(c, &nc, r->section, 0, 2, r->text);
	}
	for (int i = 0; i < nc; i++) {
		int out_ = 0;

		for (int j = 0; j < nx && !out_; j++)
			out_ = excl[j] == c[i].section;
		if (!out_ && (best < 0 || cand_better(&c[i], &c[best])))
			best = i;
	}
	if (best < 0)
		return 0;
	out->section = c[best].section;
	out->name = m->sec[c[best].section];
	out->pattern = c[best].text;
	out->depth = c[best].depth;
	out->catchall = c[best].depth < 0;
	return 1;
}
