/*
 * Subsystem and project of a message (SPEC.md section 3).
 *
 * Subject rules come from a rules file (format in etc/subsystems.rules;
 * without one, that file built in) and work on the title's leading "token:"
 * chain; where no rule matches, the generic rule takes the first token.
 * When a MAINTAINERS file is loaded and the message touches files of the
 * default project, the section that matches most of them (then the
 * deepest pattern) wins over the subject.  Where that is the catch-all
 * ("THE REST": files no section claims, as in a tree older than the
 * MAINTAINERS file), the subject rule comes first, then the section of the
 * other files, then the rules' path rules.  A message with none of these
 * gets no subsystem, a patch its project's name, so that every counted
 * message has one.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "maintainers.h"

extern const unsigned char pd_builtin_rules[];	/* gen/rules.c, NUL-terminated */

#define MAXCHAIN	8
#define MAXTOK		64
#define MAXTALLY	64
#define BUILTIN_NAME	"subsystems.rules (built in)"	/* in errors and reasons */

enum rtype { R_TAG, R_FILE, R_IGNORE, R_SUBSYS, R_PATH };

struct rule {
	enum rtype type;
	int line;
	char *arg;		/* tag, file prefix, ignored token, chain as written */
	char *tok[MAXCHAIN];	/* R_SUBSYS: chain globs */
	size_t ntok;
	char *name;		/* R_SUBSYS, R_PATH: subsystem, NULL = as written */
	char *project;		/* NULL: no project */
};

struct pd_classifier {
	char *path;		/* rules file, or BUILTIN_NAME */
	const char *name;	/* its last component, for reasons */
	struct rule *r;
	size_t nr, cap;
	char *defproject;
	pd_maint *maint;
};

struct chain {
	size_t n;
	char tok[MAXCHAIN][MAXTOK];
};

static void
rule_clear(struct rule *r)
{
	free(r->arg);
	for (size_t i = 0; i < r->ntok; i++)
		free(r->tok[i]);
	free(r->name);
	free(r->project);
}

void
pd_classifier_free(pd_classifier *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nr; i++)
		rule_clear(&c->r[i]);
	free(c->r);
	free(c->path);
	free(c->defproject);
	pd_maint_free(c->maint);
	free(c);
}

static char *
next_word(char **sp)
{
	char *s = *sp, *w;

	s += strspn(s, " \t");
	if (*s == '\0')
		return NULL;
	w = s;
	s += strcspn(s, " \t");
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return w;
}

static int
split_chain(struct rule *r, const char *chain)
{
	const char *s = chain;

	while (*s != '\0') {
		size_t l = strcspn(s, ":");

		if (l == 0 || r->ntok == MAXCHAIN)
			return PD_ECONFIG;
		if ((r->tok[r->ntok] = strndup(s, l)) == NULL)
			return PD_ENOMEM;
		r->ntok++;
		s += l;
		if (*s == ':' && *++s == '\0')
			return PD_ECONFIG;
	}
	return r->ntok > 0 ? 0 : PD_ECONFIG;
}

/* "subsystem CHAIN [project=P] [= NAME...]" after the keyword. */
static int
parse_subsystem(struct rule *r, char *rest)
{
	char *w, *eq;
	int rc;

	/* "project=" holds a '=' too: the name starts at a lone '='. */
	for (eq = rest; (eq = strchr(eq, '=')) != NULL; eq++)
		if ((eq == rest || eq[-1] == ' ' || eq[-1] == '\t') &&
		    (eq[1] == ' ' || eq[1] == '\t' || eq[1] == '\0'))
			break;
	if (eq != NULL) {
		char *name = eq + 1;
		size_t n;

		*eq = '\0';
		name += strspn(name, " \t");
		n = strlen(name);
		while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(((struct pd_class *)0)->subsystem))
			return PD_ECONFIG;
		if ((r->name = strndup(name, n)) == NULL)
			return PD_ENOMEM;
	}
	if ((w = next_word(&rest)) == NULL)
		return PD_ECONFIG;
	if ((r->arg = strdup(w)) == NULL)
		return PD_ENOMEM;
	if ((rc = split_chain(r, w)) != 0)
		return rc;
	while ((w = next_word(&rest)) != NULL) {
		if (strncmp(w, "project=", 8) != 0 || w[8] == '\0' || r->project != NULL)
			return PD_ECONFIG;
		if ((r->project = strdup(w + 8)) == NULL)
			return PD_ENOMEM;
	}
	return 0;
}

/* "KEY ARG PROJECT" rules (tag, file). */
static int
parse_pair(struct rule *r, char *rest)
{
	char *a = next_word(&rest), *p = next_word(&rest);

	if (a == NULL || p == NULL || next_word(&rest) != NULL)
		return PD_ECONFIG;
	if ((r->arg = strdup(a)) == NULL || (r->project = strdup(p)) == NULL)
		return PD_ENOMEM;
	return 0;
}

/* "path PREFIX NAME..." after the keyword. */
static int
parse_path(struct rule *r, char *rest)
{
	char *a = next_word(&rest);
	size_t n;

	if (a == NULL)
		return PD_ECONFIG;
	rest += strspn(rest, " \t");
	n = strlen(rest);
	while (n > 0 && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(((struct pd_class *)0)->subsystem))
		return PD_ECONFIG;
	if ((r->arg = strdup(a)) == NULL || (r->name = strndup(rest, n)) == NULL)
		return PD_ENOMEM;
	return 0;
}

static int
rule_add(pd_classifier *c, struct rule *r)
{
	if (c->nr == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		struct rule *nr = reallocarray(c->r, ncap, sizeof(*nr));

		if (nr == NULL)
			return PD_ENOMEM;
		c->r = nr;
		c->cap = ncap;
	}
	c->r[c->nr++] = *r;
	return 0;
}

static int
parse_rule_line(pd_classifier *c, char *line, int lineno)
{
	struct rule r;
	char *kw, *w;
	int rc = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	if ((kw = next_word(&line)) == NULL)
		return 0;
	if (strcmp(kw, "default") == 0) {
		if ((w = next_word(&line)) == NULL || next_word(&line) != NULL)
			return PD_ECONFIG;
		free(c->defproject);
		return (c->defproject = strdup(w)) == NULL ? PD_ENOMEM : 0;
	}
	if (strcmp(kw, "ignore") == 0) {
		int n = 0;

		while ((w = next_word(&line)) != NULL) {
			memset(&r, 0, sizeof(r));
			r.type = R_IGNORE;
			r.line = lineno;
			if ((r.arg = strdup(w)) == NULL || rule_add(c, &r) != 0) {
				rule_clear(&r);
				return PD_ENOMEM;
			}
			n++;
		}
		return n > 0 ? 0 : PD_ECONFIG;
	}
	memset(&r, 0, sizeof(r));
	r.line = lineno;
	if (strcmp(kw, "tag") == 0) {
		r.type = R_TAG;
		rc = parse_pair(&r, line);
	} else if (strcmp(kw, "file") == 0) {
		r.type = R_FILE;
		rc = parse_pair(&r, line);
	} else if (strcmp(kw, "subsystem") == 0) {
		r.type = R_SUBSYS;
		rc = parse_subsystem(&r, line);
	} else if (strcmp(kw, "path") == 0) {
		r.type = R_PATH;
		rc = parse_path(&r, line);
	} else
		rc = PD_ECONFIG;
	if (rc == 0)
		rc = rule_add(c, &r);
	if (rc != 0)
		rule_clear(&r);
	return rc;
}

static int
read_rules(pd_classifier *c, FILE *fp, const char *path, char *errbuf,
    size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;

	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		if ((rc = parse_rule_line(c, line, lineno)) != 0) {
			snprintf(errbuf, errlen, "%s:%d: %s", path, lineno,
			    rc == PD_ECONFIG ? "bad rule" : pd_strerror(rc));
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		rc = PD_EIO;
	}
	free(line);
	fclose(fp);
	return rc;
}

/*
 * The rules of path, or without one those of etc/subsystems.rules built
 * in (gen/rules.c): the KVM list's, whose project rules (tree tags, QEMU's
 * paths) and subsystem aliases serve any kernel-style list.
 */
static int
load_rules(pd_classifier *c, const char *path, char *errbuf, size_t errlen)
{
	FILE *fp;

	if (path != NULL)
		fp = pd_maint_fopen(path, 0, errbuf, errlen);
	else if ((fp = fmemopen((void *)pd_builtin_rules,
	    strlen((const char *)pd_builtin_rules), "r")) == NULL)
		snprintf(errbuf, errlen, "built-in rules: %s", strerror(errno));
	if (fp == NULL)
		return PD_EIO;
	return read_rules(c, fp, path ? path : BUILTIN_NAME, errbuf, errlen);
}

int
pd_classifier_new(const char *rules, const char *maintainers, const char *files,
    pd_classifier **out, char *errbuf, size_t errlen)
{
	pd_classifier *c;
	int rc = 0;

	*out = NULL;
	if (errlen > 0)
		errbuf[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PD_ENOMEM;
	if ((c->defproject = strdup("linux")) == NULL ||
	    (c->path = strdup(rules ? rules : BUILTIN_NAME)) == NULL) {
		rc = PD_ENOMEM;
		goto out;
	}
	if ((rc = load_rules(c, rules, errbuf, errlen)) != 0)
		goto out;
	c->name = strrchr(c->path, '/') ? strrchr(c->path, '/') + 1 : c->path;
	if (maintainers != NULL &&
	    (rc = pd_maint_load(maintainers, files, &c->maint, errbuf, errlen)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	pd_classifier_free(c);
	return rc;
}

int
pd_classify_own_project(const char *rules, char **out)
{
	pd_classifier *c;
	char err[256];
	int rc;

	*out = NULL;
	if ((rc = pd_classifier_new(rules, NULL, NULL, &c, err, sizeof(err))) != 0)
		return rc;
	if ((*out = strdup(c->defproject)) == NULL)
		rc = PD_ENOMEM;
	pd_classifier_free(c);
	return rc;
}

/*
 * "arm64:kvm:" read as "arm64: kvm:": a word of names, each starting with
 * a letter and without a '.', ending in ':'.  Not "a:b", "std::x",
 * "12:30:", "http://x.org:" nor "arch/arm64/kvm/sys_regs.c:1544:13:" (a
 * compiler's warning).
 */
static int
word_chain(const char *s)
{
	size_t w = strcspn(s, " \t");

	if (w < 2 || s[w - 1] != ':')
		return 0;
	for (size_t i = 0; i < w; i++) {
		unsigned char lc = (unsigned char)s[i] | 0x20;

		if ((i == 0 || s[i - 1] == ':') && !(lc >= 'a' && lc <= 'z'))
			return 0;
		if (s[i] == '.')
			return 0;
	}
	return 1;
}

/*
 * The title's leading "token:" chain: "KVM: arm64: Fix x" -> KVM, arm64.
 * A token has no blanks; "x86/boot, KVM: ..." gives x86/boot, and
 * "arm64:kvm: ..." arm64, kvm.
 */
static void
chain_parse(const char *title, struct chain *ch)
{
	const char *s = title;

	ch->n = 0;
	while (ch->n < MAXCHAIN) {
		const char *colon;
		size_t l, w;

		s += strspn(s, " \t");
		if ((colon = strchr(s, ':')) == NULL)
			break;
		if (colon[1] != ' ' && colon[1] != '\t' && colon[1] != '\0' &&
		    !word_chain(s))
			break;
		l = (size_t)(colon - s);
		w = strcspn(s, " \t,");
		/* "x86/boot, KVM: x" and "perf,kvm/arm64: x": the first */
		if (w < l && s[w] != ',')
			break;
		if (w < l)
			l = w;
		if (l == 0 || l >= MAXTOK)
			break;
		memcpy(ch->tok[ch->n], s, l);
		ch->tok[ch->n++][l] = '\0';
		s = colon + 1;
	}
}

int
pd_classify_title_named(const char *title)
{
	struct chain ch;

	chain_parse(title ? title : "", &ch);
	return ch.n > 0;
}

static int
is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
tok_match(const char *pat, const char *tok)
{
	return fnmatch(pat, tok, FNM_CASEFOLD) == 0;
}

/* Drop leading tokens named by ignore rules ("HACK: dma-buf: ..."). */
static void
chain_ignore(const pd_classifier *c, struct chain *ch)
{
	size_t skip = 0;

	for (int again = 1; again && skip < ch->n;) {
		again = 0;
		for (size_t i = 0; c != NULL && i < c->nr; i++)
			if (c->r[i].type == R_IGNORE && tok_match(c->r[i].arg, ch->tok[skip])) {
				skip++;
				again = 1;
				break;
			}
	}
	if (skip > 0) {
		memmove(ch->tok, ch->tok + skip, (ch->n - skip) * sizeof(ch->tok[0]));
		ch->n -= skip;
	}
}

static const struct rule *
subject_rule(const pd_classifier *c, const struct chain *ch)
{
	for (size_t i = 0; c != NULL && i < c->nr; i++) {
		const struct rule *r = &c->r[i];
		size_t k;

		if (r->type != R_SUBSYS || r->ntok > ch->n)
			continue;
		for (k = 0; k < r->ntok && tok_match(r->tok[k], ch->tok[k]); k++)
			;
		if (k == r->ntok)
			return r;
	}
	return NULL;
}

/* Subsystem by subject; sets *project when the rule names one. */
static void
by_subject(const pd_classifier *c, const struct chain *ch, struct pd_class *out,
    const char **project)
{
	const struct rule *r = subject_rule(c, ch);
	size_t len = 0;

	*project = NULL;
	if (r == NULL) {
		if (ch->n == 0)
			return;
		snprintf(out->subsystem, sizeof(out->subsystem), "%s", ch->tok[0]);
		snprintf(out->reason, sizeof(out->reason), "generic rule: first token");
		return;
	}
	if (r->name != NULL)
		snprintf(out->subsystem, sizeof(out->subsystem), "%s", r->name);
	else
		for (size_t k = 0; k < r->ntok && len < sizeof(out->subsystem); k++) {
			int n = snprintf(out->subsystem + len, sizeof(out->subsystem) - len,
			    "%s%s", k ? ": " : "", is_glob(r->tok[k]) ? ch->tok[k] : r->tok[k]);

			if (n < 0)
				break;
			len += (size_t)n;
		}
	snprintf(out->reason, sizeof(out->reason), "%s:%d: subsystem %s", c->name,
	    r->line, r->arg);
	*project = r->project;
}

/* Project by tree tag, then by touched file; NULL when no rule says. */
static const struct rule *
project_rule(const pd_classifier *c, const pd_msg *m)
{
	for (size_t i = 0; c != NULL && i < c->nr; i++) {
		const struct rule *r = &c->r[i];

		if (r->type == R_TAG) {
			for (size_t t = 0; t < pd_msg_ntags(m); t++)
				if (strcasecmp(pd_msg_tag(m, t), r->arg) == 0)
					return r;
		} else if (r->type == R_FILE) {
			size_t l = strlen(r->arg);

			for (size_t f = 0; f < pd_msg_nfiles(m); f++)
				if (strncmp(pd_msg_file(m, f), r->arg, l) == 0)
					return r;
		}
	}
	return NULL;
}

struct tally {
	int key, files, depth;
	const char *name, *pattern;
};

/* One file's best match: MAINTAINERS, or the longest path rule. */
typedef int (*file_match_fn)(const pd_classifier *, const char *, struct tally *);

static int
match_maint(const pd_classifier *c, const char *path, struct tally *t)
{
	struct pd_maint_match mm;

	if (!pd_maint_match(c->maint, path, &mm))
		return 0;
	*t = (struct tally){ mm.section, 0, mm.depth, mm.name, mm.pattern };
	return 1;
}

/* A section's match, not the catch-all's ("THE REST": depth < 0). */
static int
match_section(const pd_classifier *c, const char *path, struct tally *t)
{
	return match_maint(c, path, t) && t->depth >= 0;
}

static int
match_path_rule(const pd_classifier *c, const char *path, struct tally *t)
{
	int best = -1;
	size_t bl = 0;

	for (size_t i = 0; i < c->nr; i++) {
		const struct rule *r = &c->r[i];
		size_t l;

		if (r->type != R_PATH || (l = strlen(r->arg)) <= bl ||
		    strncmp(path, r->arg, l) != 0)
			continue;
		best = (int)i;
		bl = l;
	}
	if (best < 0)
		return 0;
	*t = (struct tally){ best, 0, (int)bl, c->r[best].name, c->r[best].arg };
	return 1;
}

/* The name of most touched files (then the deepest match); 0 when none. */
static int
by_files(const pd_classifier *c, const pd_msg *m, file_match_fn fn,
    struct tally *best, size_t *nfiles)
{
	struct tally t[MAXTALLY], one;
	size_t nt = 0;
	int b = -1;

	*nfiles = 0;
	for (size_t f = 0; f < pd_msg_nfiles(m); f++) {
		const char *path = pd_msg_file(m, f);
		size_t i;

		/* diffstat abbreviations (".../kvm/arm.c") name no file */
		if (strncmp(path, "...", 3) == 0 || strcmp(path, "/dev/null") == 0)
			continue;
		(*nfiles)++;
		if (!fn(c, path, &one))
			continue;
		/* by name: several path rules name one subsystem */
		for (i = 0; i < nt && strcmp(t[i].name, one.name) != 0; i++)
			;
		if (i == nt) {
			if (nt == MAXTALLY)
				continue;
			t[nt++] = one;
		} else if (one.depth > t[i].depth) {
			one.files = t[i].files;
			t[i] = one;
		}
		t[i].files++;
	}
	for (size_t i = 0; i < nt; i++)
		if (b < 0 || t[i].files > t[b].files ||
		    (t[i].files == t[b].files && t[i].depth > t[b].depth))
			b = (int)i;
	if (b < 0)
		return 0;
	*best = t[b];
	return 1;
}

static void
set_project(const pd_classifier *c, const pd_msg *m, const char *subj_project,
    struct pd_class *out)
{
	const struct rule *pr = project_rule(c, m);
	size_t len = strlen(out->reason);

	snprintf(out->project, sizeof(out->project), "%s",
	    pr ? pr->project : subj_project ? subj_project :
	    c ? c->defproject : "linux");
	if (pr != NULL)
		snprintf(out->reason + len, sizeof(out->reason) - len,
		    "%sproject by %s:%d: %s %s", len ? "; " : "", c->name, pr->line,
		    pr->type == R_TAG ? "tag" : "file", pr->arg);
}

static void
by_maintainers(const struct tally *best, size_t nfiles, struct pd_class *out)
{
	snprintf(out->subsystem, sizeof(out->subsystem), "%s", best->name);
	snprintf(out->reason, sizeof(out->reason),
	    "MAINTAINERS: %s (%s; %d of %zu files)", best->name, best->pattern,
	    best->files, nfiles);
}

void
pd_classify(const pd_classifier *c, const pd_msg *m, struct pd_class *out)
{
	const char *subj_project;
	struct chain ch;
	struct tally best, other;
	size_t nfiles;
	int deftree, maint;

	memset(out, 0, sizeof(*out));
	chain_parse(pd_msg_title(m), &ch);
	chain_ignore(c, &ch);
	by_subject(c, &ch, out, &subj_project);
	set_project(c, m, subj_project, out);
	/* MAINTAINERS and path rules describe the default project's tree */
	deftree = c != NULL && strcmp(out->project, c->defproject) == 0;
	maint = deftree && c->maint != NULL &&
	    by_files(c, m, match_maint, &best, &nfiles);
	if (maint && best.depth >= 0) {
		by_maintainers(&best, nfiles, out);
		return;
	}
	if (out->subsystem[0] != '\0')
		return;
	/*
	 * Files mostly the catch-all's: the section of the others names the
	 * posting as the tree's other postings are named, else the path rules.
	 */
	if (maint && by_files(c, m, match_section, &other, &nfiles))
		by_maintainers(&other, nfiles, out);
	else if (deftree && by_files(c, m, match_path_rule, &other, &nfiles)) {
		snprintf(out->subsystem, sizeof(out->subsystem), "%s", other.name);
		snprintf(out->reason, sizeof(out->reason), "%s:%d: path %s (%d of %zu files)",
		    c->name, c->r[other.key].line, other.pattern, other.files, nfiles);
	} else if (maint)
		by_maintainers(&best, nfiles, out);
	else if (pd_msg_is_patch(m)) {
		/* a patch always has a subsystem: its project says the most */
		snprintf(out->subsystem, sizeof(out->subsystem), "%s", out->project);
		snprintf(out->reason, sizeof(out->reason), "no subject token or file rule: "
		    "the project");
	}
}

const char *
pd_classify_path(const pd_classifier *c, const char *path, char *why, size_t whylen)
{
	struct pd_maint_match mm;

	if (whylen > 0)
		why[0] = '\0';
	if (c == NULL || c->maint == NULL || !pd_maint_match(c->maint, path, &mm))
		return NULL;
	if (whylen > 0)
		snprintf(why, whylen, "%s", mm.pattern);
	return mm.name;
}
