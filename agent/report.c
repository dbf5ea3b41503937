/* SPDX-License-Identifier: MIT */
/*
 * The one printer.  Findings -> a json-c document -> text or JSON.  The
 * document is also what the daemon sends over its socket, so the CLI
 * renders a daemon's answer and a local check the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "layer.h"
#include "log.h"
#include "rootfs.h"
#include "report.h"
#include "services.h"
#include "util.h"

#define REPORT_VERSION 2

/* A string member (none when value is NULL); flags of json_object_object_add_ex(). */
static int add_str_ex(struct json_object *obj, const char *key, const char *value,
		      unsigned int flags)
{
	struct json_object *s;

	if (!value)
		return 0;
	s = json_object_new_string(value);
	if (!s)
		return -ENOMEM;
	if (json_object_object_add_ex(obj, key, s, flags)) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct json_object *obj, const char *key, const char *value)
{
	return add_str_ex(obj, key, value, 0);
}

/*
 * add_str() for an object just made, whose keys are string literals each
 * added once (a finding, a reference): json-c neither copies the key nor
 * looks for an earlier one.  A status has hundreds of findings of nine
 * keys each; the copies, lookups and frees were a tenth of a whole
 * `jefe --direct status`.
 */
#define NEW_KEY (JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)

static int add_new_str(struct json_object *obj, const char *key, const char *value)
{
	return add_str_ex(obj, key, value, NEW_KEY);
}

static int add_int(struct json_object *obj, const char *key, int64_t value)
{
	struct json_object *i = json_object_new_int64(value);

	if (!i)
		return -ENOMEM;
	return json_object_object_add(obj, key, i) ? -ENOMEM : 0;
}

/* "refs": [{"benchmark", "version" (null when unversioned), "id"}], always present. */
static int add_refs(struct json_object *obj, const struct finding_refs *refs)
{
	struct json_object *arr = json_object_new_array();
	int err = arr ? 0 : -ENOMEM;

	for (size_t i = 0; i < refs->n && !err; i++) {
		struct json_object *r = json_object_new_object();

		if (!r) {
			err = -ENOMEM;
			break;
		}
		err = add_new_str(r, "benchmark", refs->v[i].benchmark);
		if (!err && json_object_object_add_ex(r, "version", refs->v[i].version ?
				json_object_new_string(refs->v[i].version) : NULL, NEW_KEY))
			err = -ENOMEM;
		err = err ? err : add_new_str(r, "id", refs->v[i].id);
		if (err || json_object_array_add(arr, r)) {
			json_object_put(r);
			err = err ? err : -ENOMEM;
		}
	}
	if (!err && json_object_object_add_ex(obj, "refs", arr, NEW_KEY))
		err = -ENOMEM;
	else if (err)
		json_object_put(arr);
	return err;
}

static const char *get_str(struct json_object *o, const char *key);

/*
 * The references of one finding of a document, pointing into it (valid
 * while the document is).  Anything but an array of objects with string
 * benchmark and id is -EBADMSG.
 */
static int get_refs(struct json_object *o, struct finding_ref *v, size_t max,
		    struct finding_refs *out)
{
	struct json_object *arr;

	out->v = v;
	out->n = 0;
	if (!json_object_object_get_ex(o, "refs", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > max)
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);

		v[i] = (struct finding_ref){ get_str(r, "benchmark"), get_str(r, "version"),
					     get_str(r, "id") };
		if (!v[i].benchmark || !v[i].id)
			return -EBADMSG;
		out->n++;
	}
	return 0;
}

#define REPORT_REFS_MAX 16

static const char *layer_state(const struct findings_count *c)
{
	if (c->error)
		return "error";
	if (c->drift)
		return "drift";
	if (c->contested)
		return "contested";
	if (c->compliant == 0 && c->unsupported)
		return "unsupported";
	return "compliant";
}

static int add_counts(struct json_object *obj, const struct findings_count *c)
{
	int err = add_int(obj, "compliant", (int64_t)c->compliant);

	err = err ? err : add_int(obj, "drift", (int64_t)c->drift);
	err = err ? err : add_int(obj, "error", (int64_t)c->error);
	err = err ? err : add_int(obj, "unsupported", (int64_t)c->unsupported);
	/* Only when there is a fight: documents without one stay as they were. */
	if (!err && c->contested)
		err = add_int(obj, "contested", (int64_t)c->contested);
	return err;
}

/* The counts of one layer (NULL: all) over every part of a document. */
static struct findings_count parts_count(const struct report_part *parts, size_t n,
					 const char *layer)
{
	struct findings_count c = { 0 };

	for (size_t p = 0; p < n; p++) {
		struct findings_count k = findings_count(parts[p].fs, layer);

		c.compliant += k.compliant;
		c.drift += k.drift;
		c.error += k.error;
		c.unsupported += k.unsupported;
		c.contested += k.contested;
	}
	return c;
}

static bool parts_have_layer(const struct report_part *parts, size_t n, const char *layer)
{
	for (size_t p = 0; p < n; p++)
		for (size_t j = 0; j < parts[p].fs->n; j++)
			if (strcmp(parts[p].fs->v[j].layer, layer) == 0)
				return true;
	return false;
}

/* Layers in table order first, then any other layer name seen (e.g. "services"). */
static int build_layers(const struct report_part *parts, size_t n, struct json_object *arr)
{
	struct strv names = { 0 };
	int err = 0;

	for (unsigned int i = 0; i < jefe_layers_count && !err; i++)
		if (parts_have_layer(parts, n, jefe_layers[i]->name))
			err = strv_push(&names, jefe_layers[i]->name);
	for (size_t p = 0; p < n && !err; p++)
		for (size_t j = 0; j < parts[p].fs->n && !err; j++)
			if (!strv_contains(&names, parts[p].fs->v[j].layer))
				err = strv_push(&names, parts[p].fs->v[j].layer);

	for (size_t i = 0; i < names.n && !err; i++) {
		struct findings_count c = parts_count(parts, n, names.v[i]);
		struct json_object *l = json_object_new_object();

		if (!l) {
			err = -ENOMEM;
			break;
		}
		err = add_str(l, "name", names.v[i]);
		err = err ? err : add_str(l, "state", layer_state(&c));
		err = err ? err : add_counts(l, &c);
		if (err || json_object_array_add(arr, l)) {
			json_object_put(l);
			err = err ? err : -ENOMEM;
		}
	}
	strv_free(&names);
	return err;
}

/* One finding as an object of the document's "findings" array. */
static int finding_object(const struct finding *f, struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	char id[512];
	int err;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%s:%s", f->layer, f->item);
	err = add_new_str(o, "id", id);
	err = err ? err : add_new_str(o, "layer", f->layer);
	err = err ? err : add_new_str(o, "item", f->item);
	err = err ? err : add_new_str(o, "state", finding_state_name(f->state));
	err = err ? err : add_new_str(o, "action", finding_action_name(f->action));
	err = err ? err : add_new_str(o, "expected", f->expected);
	err = err ? err : add_new_str(o, "actual", f->actual);
	err = err ? err : add_refs(o, &f->refs);
	err = err ? err : add_new_str(o, "note", f->note);
	if (!err && f->contested)
		err = add_int(o, "contested", (int64_t)f->contested);
	if (err) {
		json_object_put(o);
		return err;
	}
	*out = o;
	return 0;
}

/* The findings of fs appended to the array items. */
static int add_findings(struct json_object *items, const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct json_object *o;
		int err = finding_object(&fs->v[i], &o);

		if (err)
			return err;
		if (json_object_array_add(items, o)) {
			json_object_put(o);
			return -ENOMEM;
		}
	}
	return 0;
}

/* json-c's indentation of JSON_C_TO_STRING_PRETTY: two spaces a level. */
static void put_indent(FILE *f, unsigned int level)
{
	for (unsigned int k = 0; k < level; k++)
		fputs("  ", f);
}

/*
 * The objects of fs serialised with json-c's flags as the elements of an
 * array at `level` print them: each object's lines shifted by the level
 * (json-c's indentation is two spaces per level, relative to where the
 * object starts, and a string never holds a raw newline), the elements
 * separated as the array separates them.
 */
static int findings_render(const struct findings *fs, int flags, unsigned int level, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err = f ? 0 : -ENOMEM;

	*text = NULL;
	/*
	 * One object at a time, as the array would print them: the daemon
	 * keeps the text, and a whole tree of json-c objects built next to
	 * it would leave its heap fragmented (RSS) for nothing.
	 */
	for (size_t i = 0; i < fs->n && !err; i++) {
		struct json_object *o;
		const char *s;

		err = finding_object(&fs->v[i], &o);
		if (err)
			break;
		s = json_object_to_json_string_ext(o, flags);
		if (!s)
			err = -ENOMEM;
		if (!err && i > 0) {
			fputc(',', f);
			if (flags & JSON_C_TO_STRING_PRETTY) {
				fputc('\n', f);
				put_indent(f, level);
			}
		}
		while (!err && *s) {
			const char *nl = strchr(s, '\n');
			size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

			fwrite(s, 1, n, f);
			if (nl)
				put_indent(f, level);
			s += n;
		}
		json_object_put(o);
		if (!err && ferror(f))
			err = -ENOMEM;
	}
	if (f && fclose(f) != 0 && !err)
		err = -ENOMEM;
	if (err)
		free(buf);
	else
		*text = buf;
	return err;
}

int report_findings_render(const struct findings *fs, char **text)
{
	return findings_render(fs, JSON_C_TO_STRING_PLAIN, 0, text);
}

/* report_print()'s flags for --json, and the level of the findings array's elements. */
#define REPORT_JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
#define REPORT_FINDING_LEVEL 2	/* the document, its "findings" member, the array's elements */

int report_findings_render_pretty(const struct findings *fs, char **text)
{
	return findings_render(fs, REPORT_JSON_FLAGS, REPORT_FINDING_LEVEL, text);
}

/* with_findings: false leaves the findings array empty (report_build_head()). */
static int build_doc(const struct report_part *parts, size_t n, bool with_findings,
		     struct json_object **out)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *layers = json_object_new_array();
	struct json_object *items = json_object_new_array();
	struct json_object *summary = json_object_new_object();
	struct findings_count total = parts_count(parts, n, NULL);
	int code = 0;
	int err = 0;

	if (!doc || !layers || !items || !summary) {
		err = -ENOMEM;
		goto fail;
	}
	code = report_parts_exit_code(parts, n);
	err = add_int(doc, "version", REPORT_VERSION);
	if (!err && json_object_object_add(doc, "compliant", json_object_new_boolean(code == 0)))
		err = -ENOMEM;
	err = err ? err : add_counts(summary, &total);
	if (err)
		goto fail;
	json_object_object_add(doc, "summary", summary);
	summary = NULL;
	err = build_layers(parts, n, layers);
	if (err)
		goto fail;
	json_object_object_add(doc, "layers", layers);
	layers = NULL;

	for (size_t p = 0; p < n && !err && with_findings; p++) {
		struct json_object *raw;

		if (!parts[p].rendered) {
			err = add_findings(items, parts[p].fs);
			continue;
		}
		if (parts[p].fs->n == 0)
			continue;
		/*
		 * One element that prints the part's objects as they were
		 * rendered: the text goes out as is, and the document is only
		 * ever serialised (the daemon's reply), never read back.
		 */
		raw = json_object_new_object();
		if (!raw) {
			err = -ENOMEM;
			break;
		}
		json_object_set_serializer(raw, json_object_userdata_to_json_string,
					   (void *)parts[p].rendered, NULL);
		if (json_object_array_add(items, raw)) {
			json_object_put(raw);
			err = -ENOMEM;
		}
	}
	if (err)
		goto fail;
	json_object_object_add(doc, "findings", items);
	*out = doc;
	return 0;
fail:
	json_object_put(summary);
	json_object_put(layers);
	json_object_put(items);
	json_object_put(doc);
	return err;
}

int report_build_parts(const struct report_part *parts, size_t n, struct json_object **out)
{
	return build_doc(parts, n, true, out);
}

int report_build(const struct findings *fs, struct json_object **out)
{
	return build_doc(&(struct report_part){ .fs = fs }, 1, true, out);
}

int report_build_head(const struct findings *fs, struct json_object **out)
{
	return build_doc(&(struct report_part){ .fs = fs }, 1, false, out);
}

int report_build_head_parts(const struct report_part *parts, size_t n, struct json_object **out)
{
	return build_doc(parts, n, false, out);
}

static void read_first_line(int root_fd, const char *path, char *buf, size_t size)
{
	int fd = rootfs_open(root_fd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n \t")] = '\0';
}

int report_meta_host(struct report_meta *m, int root_fd)
{
	struct utsname u;

	read_first_line(root_fd, "/etc/machine-id", m->machine_id, sizeof(m->machine_id));
	read_first_line(root_fd, "/etc/hostname", m->hostname, sizeof(m->hostname));
	if (m->hostname[0] == '\0') {
		if (uname(&u) < 0)
			return -errno;
		snprintf(m->hostname, sizeof(m->hostname), "%s", u.nodename);
	}
	return 0;
}

static int rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -EOVERFLOW;
	return 0;
}

int report_add_meta(struct json_object *doc, const struct report_meta *m)
{
	struct json_object *host = json_object_new_object();
	struct json_object *layers;
	char when[32];
	int err;

	if (host == NULL)
		return -ENOMEM;
	err = rfc3339(m->time, when);
	err = err ? err : add_str(host, "hostname", m->hostname);
	err = err ? err : add_str(host, "machine_id", m->machine_id);
	if (err || json_object_object_add(doc, "host", host)) {
		json_object_put(host);
		return err ? err : -ENOMEM;
	}
	err = add_str(doc, "schema", REPORT_SCHEMA);
	err = err ? err : add_str(doc, "agent_version", PACKAGE_VERSION);
	err = err ? err : add_str(doc, "policy_digest", m->policy_digest);
	err = err ? err : add_str(doc, "mode", m->mode);
	err = err ? err : add_str(doc, "kind", m->kind);
	err = err ? err : add_str(doc, "time", when);
	if (!err && json_object_object_get_ex(doc, "layers", &layers))
		for (size_t i = 0; i < json_object_array_length(layers) && !err; i++) {
			struct json_object *l = json_object_array_get_idx(layers, i);

			err = add_str(l, "checked_at", when);
			err = err ? err : add_str(l, "verified_by", "request");
		}
	return err;
}

int report_layer_verified(struct json_object *doc, const char *layer, time_t at,
			  const char *verified_by)
{
	struct json_object *layers, *name;
	char when[32];
	int err = rfc3339(at, when);

	if (err)
		return err;
	if (!json_object_object_get_ex(doc, "layers", &layers))
		return 0;
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);

		if (!json_object_object_get_ex(l, "name", &name) ||
		    strcmp(json_object_get_string(name), layer) != 0)
			continue;
		/* json_object_object_add() replaces the value report_add_meta() put. */
		err = add_str(l, "checked_at", when);
		return err ? err : add_str(l, "verified_by", verified_by);
	}
	return 0;
}

int report_parse(const char *text, struct json_object **out)
{
	struct json_object *doc = json_tokener_parse(text);
	struct json_object *v;

	if (!doc)
		return -EBADMSG;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "version", &v) ||
	    json_object_get_int(v) != REPORT_VERSION ||
	    !json_object_object_get_ex(doc, "findings", &v) ||
	    !json_object_is_type(v, json_type_array)) {
		json_object_put(doc);
		return -EBADMSG;
	}
	*out = doc;
	return 0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int report_to_findings(struct json_object *doc, struct findings *fs)
{
	struct json_object *items;

	if (!json_object_object_get_ex(doc, "findings", &items))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		struct finding f = {
			.layer = get_str(o, "layer"),
			.item = get_str(o, "item"),
			.expected = get_str(o, "expected"),
			.actual = get_str(o, "actual"),
			.note = get_str(o, "note"),
		};
		const char *state = get_str(o, "state"), *action = get_str(o, "action");
		struct finding_ref refs[REPORT_REFS_MAX];
		struct json_object *c;
		int err;

		if (get_refs(o, refs, REPORT_REFS_MAX, &f.refs) < 0)
			return -EBADMSG;
		if (!f.layer || !f.item || !state || !action ||
		    finding_state_parse(state, &f.state) ||
		    finding_action_parse(action, &f.action))
			return -EBADMSG;
		if (json_object_object_get_ex(o, "contested", &c))
			f.contested = (unsigned long)json_object_get_int64(c);
		err = findings_add(fs, &f);
		if (err)
			return err;
	}
	return 0;
}

/* report_exit_code() of all parts together: an error outweighs drift. */
int report_parts_exit_code(const struct report_part *parts, size_t n)
{
	int code = 0;

	for (size_t p = 0; p < n; p++) {
		int c = report_exit_code(parts[p].fs);

		if (c == 1 || (c == 2 && code == 0))
			code = c;
	}
	return code;
}

int report_exit_code(const struct findings *fs)
{
	bool drift = false;

	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->state == FINDING_ERROR || f->action == FINDING_ACTION_FAILED)
			return 1;
		if (f->state == FINDING_DRIFT && f->action != FINDING_ACTION_REPAIRED)
			drift = true;
		/* Repaired each time, and each time undone: the admin must look. */
		if (f->contested)
			drift = true;
	}
	return drift ? 2 : 0;
}

/* ---- text rendering, from the document ---- */

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/*
 * Text from policy files and the system, escaped as the daemon's log does
 * (log_escape): whole, however long (a set of 10,000 sources), and never a
 * raw control character on the terminal.
 */
static void print_escaped(FILE *out, const char *s, size_t len)
{
	size_t size = 2 * len + 3;
	char *copy = strndup(s, len), *buf = malloc(size);

	if (copy && buf)
		fputs(log_escape(buf, size, copy, false), out);
	else
		fputs("(out of memory)", out);
	free(copy);
	free(buf);
}

static void print_note(FILE *out, const char *note)
{
	const char *p = note;

	/* Multi-line notes (a firewall diff) are indented under their item. */
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		fputs("      ", out);
		print_escaped(out, p, (size_t)len);
		fputc('\n', out);
		p = nl ? nl + 1 : NULL;
	}
}

/* ANSI colours, only when the caller asked (--color; never in --json). */
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM    "\033[2m"
#define C_BOLD   "\033[1m"
#define C_OFF    "\033[0m"

static const char *label_color(const char *label)
{
	if (strcmp(label, "compliant") == 0 || strcmp(label, "repaired") == 0)
		return C_GREEN;
	if (strcmp(label, "unsupported") == 0)
		return C_DIM;
	if (strcmp(label, "would fix") == 0 || strcmp(label, "cannot fix") == 0 ||
	    strcmp(label, "contested") == 0)
		return C_YELLOW;
	return C_RED;	/* drift, error, FAILED */
}

/*
 * A value longer than this that is a comma-separated list (sshd's
 * algorithm lists) is shown as what is missing and what is extra, not
 * as two long lists to compare by eye.
 */
#define REPORT_LIST_DIFF_MIN 48

static bool list_has(const struct strv *l, const char *s)
{
	return strv_contains(l, s);
}

static void print_list(FILE *out, const struct strv *l, const struct strv *other)
{
	bool first = true;

	for (size_t i = 0; i < l->n; i++) {
		if (list_has(other, l->v[i]))
			continue;
		if (!first)
			fputc(',', out);
		print_escaped(out, l->v[i], strlen(l->v[i]));
		first = false;
	}
}

static size_t list_count_not_in(const struct strv *l, const struct strv *other)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (!list_has(other, l->v[i]))
			n++;
	return n;
}

/* Returns true when it printed the values as a list difference. */
static bool print_list_diff(FILE *out, const char *actual, const char *expected)
{
	struct strv have = { 0 }, want = { 0 };
	size_t missing, extra;
	bool done = false;

	if ((strlen(actual) < REPORT_LIST_DIFF_MIN && strlen(expected) < REPORT_LIST_DIFF_MIN) ||
	    !strchr(actual, ',') || !strchr(expected, ','))
		return false;
	if (strv_split(&have, actual, ",") || strv_split(&want, expected, ","))
		goto out;
	missing = list_count_not_in(&want, &have);
	extra = list_count_not_in(&have, &want);
	fputs(": ", out);
	if (missing) {
		fputs("missing ", out);
		print_list(out, &want, &have);
	}
	if (extra) {
		fputs(missing ? "; extra " : "extra ", out);
		print_list(out, &have, &want);
	}
	if (!missing && !extra) {
		fputs("the same entries in another order; wanted ", out);
		print_escaped(out, expected, strlen(expected));
	}
	done = true;
out:
	strv_free(&have);
	strv_free(&want);
	return done;
}

static void print_item(FILE *out, struct json_object *o, enum report_verb verb,
		       const struct report_style *style)
{
	const char *state = get_str(o, "state"), *action = get_str(o, "action");
	const char *expected = get_str(o, "expected"), *actual = get_str(o, "actual");
	const char *note = get_str(o, "note");
	const char *id = get_str(o, "id"), *label = state;
	int64_t contested = get_int(o, "contested");
	struct finding_ref refv[REPORT_REFS_MAX];
	struct finding_refs refs;
	char ref[1024];

	if (contested > 0)
		label = "contested";
	else if (verb == REPORT_DRY_RUN && strcmp(action, "would-repair") == 0)
		label = "would fix";
	else if (strcmp(action, "repaired") == 0)
		label = "repaired";
	else if (strcmp(action, "failed") == 0)
		label = "FAILED";
	else if (strcmp(action, "cannot-fix") == 0)
		label = "cannot fix";

	/* Values come from policy files and the system: escaped, as in the log. */
	if (!id)
		id = "";
	if (style->color)
		fprintf(out, "  %s%-11s%s ", label_color(label), label, C_OFF);
	else
		fprintf(out, "  %-11s ", label);
	print_escaped(out, id, strlen(id));
	if (expected || actual) {
		if (!actual)
			actual = "(absent)";
		if (!expected)
			expected = "(absent)";
		if (!print_list_diff(out, actual, expected)) {
			fputs(": ", out);
			print_escaped(out, actual, strlen(actual));
			fputs(" -> ", out);
			print_escaped(out, expected, strlen(expected));
		}
	}
	if (get_refs(o, refv, REPORT_REFS_MAX, &refs) == 0 && refs.n > 0) {
		finding_refs_format(&refs, ref, sizeof(ref));
		fputs(style->color ? "  " C_DIM "[" : "  [", out);
		print_escaped(out, ref, strlen(ref));
		fputs(style->color ? "]" C_OFF : "]", out);
	}
	fputc('\n', out);
	if (contested > 0)
		fprintf(out, "      repaired %lld times in a row: something keeps undoing it\n",
			(long long)contested);
	if (note)
		print_note(out, note);
}

static void print_layer_row(FILE *out, struct json_object *l, const struct report_style *style)
{
	const char *state = get_str(l, "state");

	if (!state)
		state = "";
	fprintf(out, "%-10s ", get_str(l, "name"));
	if (style->color)
		fprintf(out, "%s%-12s%s", label_color(state), state, C_OFF);
	else
		fprintf(out, "%-12s", state);
	fprintf(out, " %6lld %6lld %6lld %6lld\n", (long long)get_int(l, "compliant"),
		(long long)get_int(l, "drift"), (long long)get_int(l, "error"),
		(long long)get_int(l, "unsupported"));
}

/* Is an item of this state, action, count and note shown in the text view? */
static bool item_shown_as(const char *state, const char *action, int64_t contested,
			  bool has_note, enum report_verb verb, const struct report_style *style)
{
	if (style->verbose)
		return true;
	if (strcmp(state, "drift") == 0 || strcmp(state, "error") == 0 ||
	    contested > 0 || strcmp(action, "failed") == 0)
		return true;
	/*
	 * A dry run also shows compliant items that explain themselves (the
	 * firewall's rendered ruleset, a file's diff), since seeing what would
	 * be applied is its point; unsupported ones only with --verbose.
	 */
	return verb == REPORT_DRY_RUN && has_note && strcmp(state, "unsupported") != 0;
}

static bool item_shown(struct json_object *o, enum report_verb verb,
		       const struct report_style *style)
{
	return item_shown_as(get_str(o, "state"), get_str(o, "action"), get_int(o, "contested"),
			     get_str(o, "note") != NULL, verb, style);
}

/* Count an item's action for the closing line. */
static void count_action(const char *action, size_t *would, size_t *acted)
{
	if (strcmp(action, "would-repair") == 0)
		(*would)++;
	else if (strcmp(action, "repaired") == 0 || strcmp(action, "failed") == 0)
		(*acted)++;
}

/*
 * A finding at hand: whether it is shown is asked of the very strings
 * finding_object() puts in its object, and only a shown one is made into
 * that object (most of a status is compliant and not shown without
 * --verbose).
 */
static int print_finding(FILE *out, const struct finding *f, enum report_verb verb,
			 const struct report_style *style, size_t *shown, size_t *would,
			 size_t *acted)
{
	const char *action = finding_action_name(f->action);
	struct json_object *o;
	int err;

	count_action(action, would, acted);
	if (!item_shown_as(finding_state_name(f->state), action, (int64_t)f->contested,
			   f->note != NULL, verb, style))
		return 0;
	err = finding_object(f, &o);
	if (err)
		return err;
	if ((*shown)++ == 0)
		fputc('\n', out);
	print_item(out, o, verb, style);
	json_object_put(o);
	return 0;
}

/* parts: the findings, made into objects one at a time; NULL: doc's own. */
static int print_text(FILE *out, struct json_object *doc, const struct report_part *parts,
		      size_t n_parts, enum report_verb verb, const struct report_style *style)
{
	struct json_object *layers, *items, *summary;
	size_t shown = 0, would = 0, acted = 0, services = 0;
	bool bad;

	if (!json_object_object_get_ex(doc, "layers", &layers) ||
	    !json_object_object_get_ex(doc, "findings", &items) ||
	    !json_object_object_get_ex(doc, "summary", &summary))
		return -EBADMSG;

	fprintf(out, "%-10s %-12s %6s %6s %6s %6s\n", "LAYER", "STATE", "OK", "DRIFT",
		"ERROR", "N/A");
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);

		/* Not a hardening layer: shown apart, below. */
		if (strcmp(get_str(l, "name"), SERVICES_LAYER) == 0) {
			services++;
			continue;
		}
		print_layer_row(out, l, style);
	}
	/*
	 * The services around the agent (OpenRC's view: jefe-setup, sshd,
	 * auditd started in their runlevels) are checked with a full status
	 * of this host, but they are not one of the policy's layers.
	 */
	for (size_t i = 0; services && i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);

		if (strcmp(get_str(l, "name"), SERVICES_LAYER) != 0)
			continue;
		fprintf(out, "\nSERVICES (OpenRC services the agent relies on; not a policy layer)\n");
		print_layer_row(out, l, style);
	}

	for (size_t i = 0; !parts && i < json_object_array_length(items); i++) {
		struct json_object *o = json_object_array_get_idx(items, i);

		count_action(get_str(o, "action"), &would, &acted);
		if (!item_shown(o, verb, style))
			continue;
		if (shown++ == 0)
			fputc('\n', out);
		print_item(out, o, verb, style);
	}
	/* The findings at hand (print_finding()). */
	for (size_t p = 0; parts && p < n_parts; p++)
		for (size_t i = 0; i < parts[p].fs->n; i++) {
			int err = print_finding(out, &parts[p].fs->v[i], verb, style, &shown,
						&would, &acted);

			if (err)
				return err;
		}

	fputc('\n', out);
	switch (verb) {
	case REPORT_STATUS:
		bad = get_int(summary, "drift") || get_int(summary, "error") ||
		      get_int(summary, "contested");
		if (style->color)
			fputs(bad ? C_BOLD C_RED : C_BOLD C_GREEN, out);
		fprintf(out, "%s", bad ? "NOT COMPLIANT" : "COMPLIANT");
		if (style->color)
			fputs(C_OFF, out);
		fprintf(out, ": %lld compliant, %lld drift, %lld error, %lld unsupported",
			(long long)get_int(summary, "compliant"), (long long)get_int(summary, "drift"),
			(long long)get_int(summary, "error"), (long long)get_int(summary, "unsupported"));
		if (get_int(summary, "contested"))
			fprintf(out, ", %lld contested", (long long)get_int(summary, "contested"));
		fputc('\n', out);
		break;
	case REPORT_DRY_RUN:
		/* Only what would change counts: not errors, not what is already right. */
		fprintf(out, "dry run: %zu item(s) would change, nothing was changed\n", would);
		break;
	case REPORT_ENFORCE:
		fprintf(out, "enforce: %zu item(s) acted on\n", acted);
		break;
	}
	return ferror(out) ? -EIO : 0;
}

const char *report_json_text(struct json_object *doc, size_t *len)
{
	return json_object_to_json_string_length(doc, REPORT_JSON_FLAGS, len);
}

int report_print(FILE *out, struct json_object *doc, enum report_format fmt,
		 enum report_verb verb, const struct report_style *style)
{
	static const struct report_style plain = { 0 };

	if (fmt == REPORT_JSON) {
		size_t len;
		const char *text = report_json_text(doc, &len);

		if (text == NULL)
			return -ENOMEM;
		fwrite(text, 1, len, out);
		fputc('\n', out);
		return ferror(out) ? -EIO : 0;
	}
	return print_text(out, doc, NULL, 0, verb, style ? style : &plain);
}

int report_print_text(FILE *out, struct json_object *doc, const struct findings *fs,
		      enum report_verb verb, const struct report_style *style)
{
	static const struct report_style plain = { 0 };

	return print_text(out, doc, &(struct report_part){ .fs = fs }, 1, verb,
			  style ? style : &plain);
}

int report_print_text_parts(FILE *out, struct json_object *doc, const struct report_part *parts,
			    size_t n, enum report_verb verb, const struct report_style *style)
{
	static const struct report_style plain = { 0 };

	return print_text(out, doc, parts, n, verb, style ? style : &plain);
}
