/* SPDX-License-Identifier: MIT */
/* Findings, the JSON document, the text rendering and exit codes. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "finding.h"
#include "report.h"

static void add(struct findings *fs, const char *layer, const char *item,
		enum finding_state state, enum finding_action action)
{
	assert_int_equal(findings_add(fs, &(struct finding){
		.layer = layer, .item = item, .state = state, .action = action,
		.expected = "2", .actual = state == FINDING_COMPLIANT ? "2" : "0",
		.refs = REFS(REF_CIS("1.5.1"), REF_KSPP("kernel.randomize_va_space")),
	}), 0);
}

static char *render(struct json_object *doc, enum report_format fmt, enum report_verb verb)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	assert_int_equal(report_print(mem, doc, fmt, verb, NULL), 0);
	fclose(mem);
	return out;
}

static void test_exit_codes(void **state)
{
	struct findings fs = { 0 };

	(void)state;
	assert_int_equal(report_exit_code(&fs), 0);
	add(&fs, "sysctl", "a", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	add(&fs, "sysctl", "u", FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
	assert_int_equal(report_exit_code(&fs), 0);
	add(&fs, "sysctl", "b", FINDING_DRIFT, FINDING_ACTION_REPAIRED);
	assert_int_equal(report_exit_code(&fs), 0);
	add(&fs, "sysctl", "c", FINDING_DRIFT, FINDING_ACTION_WOULD_REPAIR);
	assert_int_equal(report_exit_code(&fs), 2);
	add(&fs, "sysctl", "d", FINDING_DRIFT, FINDING_ACTION_FAILED);
	assert_int_equal(report_exit_code(&fs), 1);
	findings_free(&fs);
}

static void test_json_round_trip(void **state)
{
	struct findings fs = { 0 }, back = { 0 };
	struct json_object *doc = NULL, *parsed = NULL, *v;
	char *text;

	(void)state;
	add(&fs, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_NONE);
	add(&fs, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	add(&fs, "firewall", "table", FINDING_ERROR, FINDING_ACTION_NONE);
	assert_int_equal(report_build(&fs, &doc), 0);

	text = render(doc, REPORT_JSON, REPORT_STATUS);
	assert_int_equal(report_parse(text, &parsed), 0);
	assert_true(json_object_object_get_ex(parsed, "compliant", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(parsed, "layers", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(v, 0), "name")), "sysctl");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(v, 0), "state")), "drift");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(v, 1), "state")), "error");

	assert_int_equal(report_to_findings(parsed, &back), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(back.v[0].item, "kernel.kptr_restrict");
	assert_int_equal(back.v[0].state, FINDING_DRIFT);
	assert_int_equal(back.v[0].refs.n, 2);
	assert_string_equal(back.v[0].refs.v[0].benchmark, "CIS Debian Linux 12");
	assert_string_equal(back.v[0].refs.v[0].version, "1.0.1");
	assert_string_equal(back.v[0].refs.v[0].id, "1.5.1");
	assert_string_equal(back.v[0].refs.v[1].benchmark, "KSPP");
	assert_null(back.v[0].refs.v[1].version);
	assert_string_equal(back.v[0].refs.v[1].id, "kernel.randomize_va_space");
	assert_int_equal(report_exit_code(&back), report_exit_code(&fs));

	free(text);
	json_object_put(doc);
	json_object_put(parsed);
	findings_free(&fs);
	findings_free(&back);
}

static void test_text_matches_json(void **state)
{
	struct findings fs = { 0 };
	struct json_object *doc = NULL;
	char *text;

	(void)state;
	add(&fs, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_NONE);
	add(&fs, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(report_build(&fs, &doc), 0);
	text = render(doc, REPORT_TEXT, REPORT_STATUS);
	assert_non_null(strstr(text, "sysctl     drift             1      1      0      0\n"));
	assert_non_null(strstr(text, "  drift       sysctl:kernel.kptr_restrict: 0 -> 2  [CIS 1.5.1, KSPP kernel.randomize_va_space]\n"));
	/* Compliant items are not listed in the table. */
	assert_null(strstr(text, "kernel.dmesg_restrict"));
	assert_non_null(strstr(text, "NOT COMPLIANT: 1 compliant, 1 drift, 0 error, 0 unsupported\n"));
	free(text);
	json_object_put(doc);
	findings_free(&fs);
}

static void test_dry_run_shows_explained_items(void **state)
{
	struct findings fs = { 0 };
	struct json_object *doc = NULL;
	char *text;

	(void)state;
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "firewall", .item = "ruleset", .state = FINDING_COMPLIANT,
		.note = "table inet jefe {\n}" }), 0);
	add(&fs, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_WOULD_REPAIR);
	assert_int_equal(report_build(&fs, &doc), 0);
	text = render(doc, REPORT_TEXT, REPORT_DRY_RUN);
	assert_non_null(strstr(text, "      table inet jefe {\n      }\n"));
	assert_non_null(strstr(text, "  would fix   sysctl:kernel.kptr_restrict: 0 -> 2"));
	assert_non_null(strstr(text, "dry run: 1 item(s) would change, nothing was changed\n"));
	free(text);
	/* A status does not list compliant items, notes or not. */
	text = render(doc, REPORT_TEXT, REPORT_STATUS);
	assert_null(strstr(text, "table inet jefe"));
	free(text);
	json_object_put(doc);
	findings_free(&fs);
}

/* "refs" is structured data: a list of {benchmark, version, id}, always there. */
static void test_refs_structured(void **state)
{
	struct findings fs = { 0 };
	struct json_object *doc = NULL, *items, *f0, *f1, *refs, *r;

	(void)state;
	add(&fs, "sysctl", "kernel.randomize_va_space", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "sshd", .item = "StrictModes", .state = FINDING_COMPLIANT }), 0);
	assert_int_equal(report_build(&fs, &doc), 0);
	assert_true(json_object_object_get_ex(doc, "findings", &items));
	f0 = json_object_array_get_idx(items, 0);
	f1 = json_object_array_get_idx(items, 1);
	assert_false(json_object_object_get_ex(f0, "ref", &r));
	assert_true(json_object_object_get_ex(f0, "refs", &refs));
	assert_true(json_object_is_type(refs, json_type_array));
	assert_int_equal(json_object_array_length(refs), 2);
	r = json_object_array_get_idx(refs, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(r, "benchmark")),
			    "CIS Debian Linux 12");
	assert_string_equal(json_object_get_string(json_object_object_get(r, "version")), "1.0.1");
	assert_string_equal(json_object_get_string(json_object_object_get(r, "id")), "1.5.1");
	r = json_object_array_get_idx(refs, 1);
	assert_true(json_object_object_get_ex(r, "version", &f0));
	assert_null(f0);	/* JSON null: KSPP has no versions */
	/* No reference: an empty list, not a missing key. */
	assert_true(json_object_object_get_ex(f1, "refs", &refs));
	assert_int_equal(json_object_array_length(refs), 0);
	json_object_put(doc);
	findings_free(&fs);
}

static void test_refs_text_form(void **state)
{
	struct finding_refs refs = { 0 };
	char buf[64], why[128];

	(void)state;
	assert_int_equal(finding_refs_parse(" CIS 6.3.3.1 , STIG V-260529,KSPP kernel.kptr_restrict",
					    &refs, why, sizeof(why)), 0);
	assert_int_equal(refs.n, 3);
	assert_string_equal(refs.v[0].benchmark, REF_CIS_BENCHMARK);
	assert_string_equal(refs.v[0].version, REF_CIS_VERSION);
	assert_string_equal(refs.v[0].id, "6.3.3.1");
	assert_string_equal(refs.v[1].benchmark, REF_STIG_BENCHMARK);
	assert_string_equal(refs.v[1].id, "V-260529");
	assert_null(refs.v[2].version);
	assert_string_equal(finding_refs_format(&refs, buf, sizeof(buf)),
			    "CIS 6.3.3.1, STIG V-260529, KSPP kernel.kptr_restrict");
	/* Too small: cut at a whole reference, never in the middle of one. */
	assert_string_equal(finding_refs_format(&refs, buf, 30), "CIS 6.3.3.1, STIG V-260529");
	finding_refs_free(&refs);
	assert_int_equal(finding_refs_parse("", &refs, why, sizeof(why)), 0);
	assert_int_equal(refs.n, 0);
	assert_string_equal(finding_refs_format(&refs, buf, sizeof(buf)), "");
	assert_int_equal(finding_refs_parse("CIS Ubuntu 4.1.3.2", &refs, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "reference 'CIS' needs one id after the benchmark");
	assert_int_equal(finding_refs_parse("JefeLinux design", &refs, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown benchmark 'JefeLinux' (known: CIS, KSPP, STIG)");
	assert_int_equal(finding_refs_parse("CIS", &refs, why, sizeof(why)), -EINVAL);
	assert_null(refs.v);
}

static void test_parse_rejects_garbage(void **state)
{
	struct json_object *doc = NULL;

	(void)state;
	assert_int_equal(report_parse("{", &doc), -EBADMSG);
	assert_int_equal(report_parse("[]", &doc), -EBADMSG);
	/* Version 1 carried "ref" as free text: not this document. */
	assert_int_equal(report_parse("{\"version\":1,\"findings\":[]}", &doc), -EBADMSG);
	assert_int_equal(report_parse("{\"version\":3,\"findings\":[]}", &doc), -EBADMSG);
	assert_int_equal(report_parse("{\"version\":2,\"findings\":[]}", &doc), 0);
	json_object_put(doc);
	/* refs that are not a list of {benchmark, id} objects are refused. */
	{
		struct findings fs = { 0 };
		static const char *const bad[] = {
			"{\"version\":2,\"findings\":[{\"layer\":\"a\",\"item\":\"b\",\"state\":\"drift\",\"action\":\"none\",\"refs\":\"CIS 1.5.1\"}]}",
			"{\"version\":2,\"findings\":[{\"layer\":\"a\",\"item\":\"b\",\"state\":\"drift\",\"action\":\"none\",\"refs\":[{\"id\":\"1.5.1\"}]}]}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(report_parse(bad[i], &doc), 0);
			assert_int_equal(report_to_findings(doc, &fs), -EBADMSG);
			json_object_put(doc);
		}
		findings_free(&fs);
	}
}

/* A contested item: compliant this instant, yet the admin must look. */
static void test_contested(void **state)
{
	struct findings fs = { 0 }, back = { 0 };
	struct json_object *doc = NULL, *parsed = NULL, *v;
	char *text;

	(void)state;
	add(&fs, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "sysctl", .item = "net.ipv4.tcp_syncookies", .expected = "1",
		.actual = "1", .state = FINDING_COMPLIANT, .contested = 41,
	}), 0);
	assert_int_equal(report_exit_code(&fs), 2);
	assert_int_equal(findings_count(&fs, NULL).contested, 1);
	assert_int_equal(report_build(&fs, &doc), 0);

	/* JSON: the count on the finding, in the summary, and the layer state. */
	text = strdup(json_object_to_json_string(doc));
	assert_int_equal(report_parse(text, &parsed), 0);
	assert_int_equal(report_to_findings(parsed, &back), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.v[0].contested, 0);
	assert_int_equal(back.v[1].contested, 41);
	assert_true(json_object_object_get_ex(doc, "summary", &v));
	assert_true(json_object_object_get_ex(v, "contested", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(doc, "layers", &v));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 0), "state", &v));
	assert_string_equal(json_object_get_string(v), "contested");
	free(text);

	/* Text: labelled, counted, and not called compliant. */
	text = render(doc, REPORT_TEXT, REPORT_STATUS);
	assert_non_null(strstr(text, "  contested   sysctl:net.ipv4.tcp_syncookies: 1 -> 1\n"));
	assert_non_null(strstr(text, "repaired 41 times in a row: something keeps undoing it"));
	assert_null(strstr(text, "kernel.dmesg_restrict"));
	assert_non_null(strstr(text, "NOT COMPLIANT: 2 compliant, 0 drift, 0 error, 0 unsupported, 1 contested\n"));
	free(text);

	/* Without a fight the document has no contested member at all. */
	json_object_put(doc);
	fs.v[1].contested = 0;
	assert_int_equal(report_build(&fs, &doc), 0);
	assert_null(strstr(json_object_to_json_string(doc), "contested"));
	assert_int_equal(report_exit_code(&fs), 0);

	json_object_put(doc);
	json_object_put(parsed);
	findings_free(&fs);
	findings_free(&back);
}

/* Each layer's checked_at and verified_by: "request" by default, the daemon's own per layer. */
static const char *layer_field(struct json_object *doc, const char *layer, const char *key)
{
	struct json_object *layers, *v;

	assert_true(json_object_object_get_ex(doc, "layers", &layers));
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);

		assert_true(json_object_object_get_ex(l, "name", &v));
		if (strcmp(json_object_get_string(v), layer) != 0)
			continue;
		return json_object_object_get_ex(l, key, &v) ? json_object_get_string(v) : NULL;
	}
	return NULL;
}

static void test_layer_verified(void **state)
{
	struct findings fs = { 0 };
	struct json_object *doc = NULL;
	struct report_meta meta = { .hostname = "h", .kind = "status", .mode = "report",
				    .time = 1796083200 };	/* 2026-12-01T00:00:00Z */

	(void)state;
	add(&fs, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_NONE);
	add(&fs, "files", "perm:/etc/shadow", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(report_build(&fs, &doc), 0);
	assert_int_equal(report_add_meta(doc, &meta), 0);
	assert_string_equal(layer_field(doc, "sysctl", "checked_at"), "2026-12-01T00:00:00Z");
	assert_string_equal(layer_field(doc, "sysctl", "verified_by"), "request");
	assert_string_equal(layer_field(doc, "files", "verified_by"), "request");
	/* The daemon's live state: one layer checked earlier, by an event. */
	assert_int_equal(report_layer_verified(doc, "sysctl", 1796083200 - 61, "event"), 0);
	assert_string_equal(layer_field(doc, "sysctl", "checked_at"), "2026-11-30T23:58:59Z");
	assert_string_equal(layer_field(doc, "sysctl", "verified_by"), "event");
	assert_string_equal(layer_field(doc, "files", "checked_at"), "2026-12-01T00:00:00Z");
	assert_string_equal(layer_field(doc, "files", "verified_by"), "request");
	/* A layer the document does not have: nothing to do, no error. */
	assert_int_equal(report_layer_verified(doc, "audit", 0, "timer"), 0);
	assert_null(layer_field(doc, "audit", "verified_by"));
	/* findings_find(): the first finding about an item, or NULL. */
	assert_string_equal(findings_find(&fs, "perm:/etc/shadow")->layer, "files");
	assert_null(findings_find(&fs, "perm:/etc/gshadow"));
	json_object_put(doc);
	findings_free(&fs);
}

/*
 * The daemon's reply: each layer's findings rendered once and spliced in
 * (report_build_parts()) is byte for byte the document report_build()
 * makes of the same findings in one list, and reads back the same.
 */
static void test_parts_rendered(void **state)
{
	struct findings sysctl = { 0 }, files = { 0 }, none = { 0 }, extra = { 0 }, all = { 0 };
	struct findings back = { 0 };
	struct json_object *whole = NULL, *spliced = NULL, *parsed = NULL;
	char *ts = NULL, *tf = NULL, *tn = NULL, *expect;
	const char *got;

	(void)state;
	add(&sysctl, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_NONE);
	add(&sysctl, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	add(&files, "files", "perm:/etc/shadow", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(findings_add(&files, &(struct finding){
		.layer = "files", .item = "sha256:/etc/\"q\"", .state = FINDING_ERROR,
		.note = "a note\nwith a newline", .contested = 0 }), 0);
	add(&extra, "services", "jefe", FINDING_DRIFT, FINDING_ACTION_NONE);
	assert_int_equal(findings_append(&all, &sysctl), 0);
	assert_int_equal(findings_append(&all, &files), 0);
	assert_int_equal(findings_append(&all, &extra), 0);

	assert_int_equal(report_findings_render(&sysctl, &ts), 0);
	assert_int_equal(report_findings_render(&files, &tf), 0);
	assert_int_equal(report_findings_render(&none, &tn), 0);
	assert_string_equal(tn, "");
	assert_int_equal(report_build(&all, &whole), 0);
	assert_int_equal(report_build_parts((const struct report_part[]){
		{ .fs = &sysctl, .rendered = ts }, { .fs = &none, .rendered = tn },
		{ .fs = &files, .rendered = tf }, { .fs = &extra } }, 4, &spliced), 0);
	expect = strdup(json_object_to_json_string_ext(whole, JSON_C_TO_STRING_PLAIN));
	got = json_object_to_json_string_ext(spliced, JSON_C_TO_STRING_PLAIN);
	assert_non_null(expect);
	assert_string_equal(got, expect);
	assert_int_equal(report_parse(got, &parsed), 0);
	assert_int_equal(report_to_findings(parsed, &back), 0);
	assert_int_equal(back.n, all.n);
	assert_string_equal(back.v[3].note, "a note\nwith a newline");
	assert_int_equal(back.v[4].state, FINDING_DRIFT);

	free(expect);
	free(ts);
	free(tf);
	free(tn);
	json_object_put(whole);
	json_object_put(spliced);
	json_object_put(parsed);
	findings_free(&back);
	findings_free(&all);
	findings_free(&sysctl);
	findings_free(&files);
	findings_free(&extra);
}

/* What the client printed of a document before protocol 3: parsed back, then report_print(). */
static char *print_parsed(const char *wire, enum report_format fmt, enum report_verb verb,
			  const struct report_style *style, int *exit_code)
{
	struct json_object *parsed = NULL;
	struct findings back = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	assert_int_equal(report_parse(wire, &parsed), 0);
	assert_int_equal(report_to_findings(parsed, &back), 0);
	*exit_code = report_exit_code(&back);
	assert_int_equal(report_print(mem, parsed, fmt, verb, style), 0);
	fclose(mem);
	json_object_put(parsed);
	findings_free(&back);
	return out;
}

/*
 * The view the daemon prints (IPC_FLAG_VIEW) is byte for byte what the
 * client printed of the daemon's document before, parsed: the text of
 * every verb, plain, verbose and coloured, from the parts of the live
 * state (report_print_text_parts()), and the JSON document built from
 * the parts, unrendered or with each part's report_findings_render_pretty()
 * spliced in, and pretty-printed; and the same exit code.
 */
static void test_view_matches_parsed_document(void **state)
{
	struct findings sysctl = { 0 }, files = { 0 }, none = { 0 }, extra = { 0 };
	struct report_meta meta = { .hostname = "h", .machine_id = "m", .kind = "status",
				    .mode = "enforce", .time = 1796083200 };
	static const enum report_verb verbs[] = { REPORT_STATUS, REPORT_ENFORCE, REPORT_DRY_RUN };
	static const struct report_style styles[] = {
		{ .verbose = false, .color = false }, { .verbose = true, .color = false },
		{ .verbose = false, .color = true }, { .verbose = true, .color = true },
	};
	char *ts = NULL, *tf = NULL, *tn = NULL, *ps = NULL, *pf = NULL, *pn = NULL;

	(void)state;
	add(&sysctl, "sysctl", "kernel.kptr_restrict", FINDING_DRIFT, FINDING_ACTION_NONE);
	add(&sysctl, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	add(&sysctl, "sysctl", "kernel.yama.ptrace_scope", FINDING_DRIFT, FINDING_ACTION_REPAIRED);
	add(&sysctl, "sysctl", "net.ipv4.ip_forward", FINDING_DRIFT, FINDING_ACTION_WOULD_REPAIR);
	assert_int_equal(findings_add(&sysctl, &(struct finding){
		.layer = "sysctl", .item = "net.ipv4.tcp_syncookies", .expected = "1",
		.actual = "1", .state = FINDING_COMPLIANT, .contested = 7 }), 0);
	add(&files, "files", "perm:/etc/shadow", FINDING_COMPLIANT, FINDING_ACTION_NONE);
	assert_int_equal(findings_add(&files, &(struct finding){
		.layer = "files", .item = "sha256:/etc/\"q\"/\x01", .state = FINDING_ERROR,
		.action = FINDING_ACTION_FAILED, .note = "a note\nwith a newline\tand a tab" }), 0);
	assert_int_equal(findings_add(&files, &(struct finding){
		.layer = "files", .item = "baseline:/etc/motd", .state = FINDING_COMPLIANT,
		.note = "--- a/etc/motd\n+++ b/etc/motd\n@@ -1 +1 @@\n-x\n+y" }), 0);
	assert_int_equal(findings_add(&files, &(struct finding){
		.layer = "files", .item = "mount:/tmp", .state = FINDING_UNSUPPORTED,
		.action = FINDING_ACTION_CANNOT_FIX }), 0);
	assert_int_equal(findings_add(&files, &(struct finding){
		.layer = "files", .item = "sshd:ciphers", .state = FINDING_DRIFT,
		.expected = "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
		.actual = "aes128-cbc,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com" }), 0);
	add(&extra, "services", "jefe", FINDING_DRIFT, FINDING_ACTION_NONE);
	assert_int_equal(report_findings_render(&sysctl, &ts), 0);
	assert_int_equal(report_findings_render(&files, &tf), 0);
	assert_int_equal(report_findings_render(&none, &tn), 0);
	assert_int_equal(report_findings_render_pretty(&sysctl, &ps), 0);
	assert_int_equal(report_findings_render_pretty(&files, &pf), 0);
	assert_int_equal(report_findings_render_pretty(&none, &pn), 0);
	assert_string_equal(pn, "");

	for (int drop = 0; drop < 3; drop++) {
		/* drop 1: no services part; drop 2: compliant only (exit 0). */
		const struct report_part rendered[] = {
			{ .fs = &sysctl, .rendered = ts }, { .fs = &none, .rendered = tn },
			{ .fs = &files, .rendered = tf }, { .fs = &extra } };
		const struct report_part plain[] = {
			{ .fs = &sysctl }, { .fs = &none }, { .fs = &files }, { .fs = &extra } };
		const struct report_part pretty[] = {
			{ .fs = &sysctl, .rendered = ps }, { .fs = &none, .rendered = pn },
			{ .fs = &files, .rendered = pf }, { .fs = &extra } };
		struct findings ok = { 0 };
		const struct report_part only_ok[] = { { .fs = &ok } };
		const struct report_part *wire_parts = drop == 2 ? only_ok : rendered;
		const struct report_part *view_parts = drop == 2 ? only_ok : plain;
		size_t n = drop == 0 ? 4 : drop == 1 ? 3 : 1;
		struct json_object *doc = NULL;
		char *wire;

		add(&ok, "sysctl", "kernel.dmesg_restrict", FINDING_COMPLIANT, FINDING_ACTION_NONE);
		/* The daemon's compact document, as it went over the socket. */
		assert_int_equal(report_build_parts(wire_parts, n, &doc), 0);
		assert_int_equal(report_add_meta(doc, &meta), 0);
		assert_int_equal(report_layer_verified(doc, "sysctl", meta.time - 61, "event"), 0);
		wire = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
		json_object_put(doc);

		for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
			for (size_t k = 0; k < sizeof(styles) / sizeof(styles[0]); k++) {
				char *was, *now = NULL;
				size_t len = 0;
				FILE *mem = open_memstream(&now, &len);
				int was_code;

				was = print_parsed(wire, REPORT_TEXT, verbs[v], &styles[k], &was_code);
				assert_int_equal(report_build_head_parts(view_parts, n, &doc), 0);
				assert_int_equal(report_print_text_parts(mem, doc, view_parts, n, verbs[v],
									 &styles[k]), 0);
				fclose(mem);
				json_object_put(doc);
				if (strcmp(was, now) != 0)
					fail_msg("text, drop %d verb %zu style %zu:\n--- was\n%s--- now\n%s",
						 drop, v, k, was, now);
				assert_int_equal(report_parts_exit_code(view_parts, n), was_code);
				free(was);
				free(now);
			}
		/* The JSON view: from the findings, or each layer's pretty text spliced. */
		for (size_t v = 0; v < 2 * sizeof(verbs) / sizeof(verbs[0]); v++) {
			const struct report_part *json_parts = v % 2 == 0 || drop == 2 ? view_parts :
								pretty;
			char *was, *now = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&now, &len);
			int was_code;

			was = print_parsed(wire, REPORT_JSON, verbs[v / 2], NULL, &was_code);
			assert_int_equal(report_build_parts(json_parts, n, &doc), 0);
			assert_int_equal(report_add_meta(doc, &meta), 0);
			assert_int_equal(report_layer_verified(doc, "sysctl", meta.time - 61, "event"), 0);
			assert_int_equal(report_print(mem, doc, REPORT_JSON, verbs[v / 2], NULL), 0);
			fclose(mem);
			json_object_put(doc);
			assert_string_equal(now, was);
			if (drop != 2)
				assert_non_null(strstr(now, "\"sha256:/etc/\\\"q\\\"/\\u0001\""));
			free(was);
			free(now);
		}
		free(wire);
		findings_free(&ok);
	}
	free(ts);
	free(tf);
	free(tn);
	free(ps);
	free(pf);
	free(pn);
	findings_free(&sysctl);
	findings_free(&files);
	findings_free(&extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_text_matches_json),
		cmocka_unit_test(test_dry_run_shows_explained_items),
		cmocka_unit_test(test_refs_structured),
		cmocka_unit_test(test_refs_text_form),
		cmocka_unit_test(test_parse_rejects_garbage),
		cmocka_unit_test(test_contested),
		cmocka_unit_test(test_layer_verified),
		cmocka_unit_test(test_parts_rendered),
		cmocka_unit_test(test_view_matches_parsed_document),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
