/* SPDX-License-Identifier: MIT */
/*
 * The software bill of materials: out/NAME.spdx.json, an SPDX 2.3 JSON
 * document of what the image holds (the inventory's in-image packages),
 * plus the agent and the builder as packages of their own.  Deterministic:
 * the creation time is SOURCE_DATE_EPOCH and the document namespace is
 * derived from a hash of the rest of the document, so the same image gives
 * the same bytes.
 *
 * Licenses come from the packages' copyright files where they follow the
 * machine-readable format (DEP-5, "Format:" first): every "License:" name,
 * mapped to its SPDX identifier where Debian's short name differs, others as
 * LicenseRef-NAME (declared in hasExtractedLicensingInfos), all joined
 * with AND.  A free-text copyright file gives NOASSERTION.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "ib.h"

/* Debian's short names (copyright-format 1.0) to SPDX identifiers. */
static const struct {
	const char *debian, *spdx;
} sbom_license_names[] = {
	{ "GPL-1", "GPL-1.0-only" }, { "GPL-1+", "GPL-1.0-or-later" },
	{ "GPL-2", "GPL-2.0-only" }, { "GPL-2+", "GPL-2.0-or-later" },
	{ "GPL-3", "GPL-3.0-only" }, { "GPL-3+", "GPL-3.0-or-later" },
	{ "LGPL-2", "LGPL-2.0-only" }, { "LGPL-2+", "LGPL-2.0-or-later" },
	{ "LGPL-2.1", "LGPL-2.1-only" }, { "LGPL-2.1+", "LGPL-2.1-or-later" },
	{ "LGPL-3", "LGPL-3.0-only" }, { "LGPL-3+", "LGPL-3.0-or-later" },
	{ "AGPL-3", "AGPL-3.0-only" }, { "AGPL-3+", "AGPL-3.0-or-later" },
	{ "GFDL-1.2", "GFDL-1.2-only" }, { "GFDL-1.2+", "GFDL-1.2-or-later" },
	{ "GFDL-1.3", "GFDL-1.3-only" }, { "GFDL-1.3+", "GFDL-1.3-or-later" },
	{ "BSD-2-clause", "BSD-2-Clause" }, { "BSD-3-clause", "BSD-3-Clause" },
	{ "BSD-4-clause", "BSD-4-Clause" }, { "Expat", "MIT" }, { "MIT", "MIT" },
	{ "ISC", "ISC" }, { "Zlib", "Zlib" }, { "Apache-2.0", "Apache-2.0" },
	{ "Artistic", "Artistic-1.0-Perl" }, { "Artistic-2.0", "Artistic-2.0" },
	{ "MPL-1.1", "MPL-1.1" }, { "MPL-2.0", "MPL-2.0" }, { "CC0-1.0", "CC0-1.0" },
	{ "CC0", "CC0-1.0" }, { "X11", "X11" }, { "OpenSSL", "OpenSSL" },
	{ "curl", "curl" }, { "FSFAP", "FSFAP" }, { "FSFUL", "FSFUL" },
	{ "FSFULLR", "FSFULLR" }, { "BSL-1.0", "BSL-1.0" }, { "Python-2.0", "Python-2.0" },
	{ "PSF-2", "PSF-2.0" }, { "Unicode-DFS-2016", "Unicode-DFS-2016" },
	{ "WTFPL", "WTFPL" }, { "0BSD", "0BSD" }, { "bzip2-1.0.6", "bzip2-1.0.6" },
};

/* One license name as an SPDX identifier into out. */
static void sbom_license_id(const char *name, char *out, size_t size)
{
	char shorter[256], *dot;
	size_t i;

	/* "GPL-2.0+" is how some files spell Debian's "GPL-2+" */
	snprintf(shorter, sizeof(shorter), "%s", name);
	dot = strstr(shorter, ".0");
	if (dot && (dot[2] == '+' || dot[2] == '\0'))
		memmove(dot, dot + 2, strlen(dot + 2) + 1);
	for (i = 0; i < ARRAY_LEN(sbom_license_names); i++) {
		if (!strcasecmp(name, sbom_license_names[i].debian) ||
		    !strcasecmp(shorter, sbom_license_names[i].debian)) {
			snprintf(out, size, "%s", sbom_license_names[i].spdx);
			return;
		}
	}
	/* LicenseRef-[idstring]: letters, digits, '.' and '-' */
	i = (size_t)snprintf(out, size, "LicenseRef-");
	for (; *name && i + 1 < size; name++)
		out[i++] = (isalnum((unsigned char)*name) || *name == '.' || *name == '-')
			   ? *name : (*name == '+' ? '.' : '-');
	out[i < size ? i : size - 1] = '\0';
}

/* "GPL-2+ or Artistic" -> "GPL-2.0-or-later OR Artistic-1.0-Perl"; what is
 * not a simple and/or list of names ("GPL-2+ with OpenSSL exception",
 * two names without an operator) becomes one LicenseRef of the whole. */
static void sbom_license_expr(char *value, char *out, size_t size)
{
	char *whole, *tok, *save = NULL, id[256];
	bool want_name = true;
	size_t used = 0;

	out[0] = '\0';
	whole = strdup(value);
	if (!whole) {
		snprintf(out, size, "NOASSERTION");
		return;
	}
	for (tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		bool op = !strcasecmp(tok, "or") || !strcasecmp(tok, "and/or") ||
			  !strcasecmp(tok, "and");

		if (op == want_name || !strcasecmp(tok, "with") || strpbrk(tok, "()")) {
			used = 0;
			break;
		}
		if (op)
			snprintf(id, sizeof(id), "%s", !strcasecmp(tok, "and") ? "AND" : "OR");
		else
			sbom_license_id(tok, id, sizeof(id));
		want_name = op;
		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
					 used ? " " : "", id);
	}
	if (!used || want_name || used >= size)
		sbom_license_id(whole, out, size);
	free(whole);
}

int sbom_license_from_copyright(const char *text, char *out, size_t size)
{
	char *copy, *line, *next, expr[512];
	size_t used = 0, count = 0;

	snprintf(out, size, "NOASSERTION");
	if (strncmp(text, "Format:", 7))
		return 0;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (line = copy; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncasecmp(line, "License:", 8))
			continue;
		line += 8 + strspn(line + 8, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (!*line)
			continue;
		sbom_license_expr(line, expr, sizeof(expr));
		if (!strcmp(expr, "NOASSERTION"))
			continue;
		/* each distinct expression once, in order of appearance */
		{
			char wrapped[600];

			snprintf(wrapped, sizeof(wrapped), strchr(expr, ' ') ? "(%s)" : "%s", expr);
			if (count && strstr(out, wrapped))
				continue;
			if (!count)
				used = 0;
			used += (size_t)snprintf(out + used, used < size ? size - used : 0,
						 "%s%s", count ? " AND " : "", wrapped);
			count++;
		}
	}
	free(copy);
	if (!count || used >= size)
		snprintf(out, size, "NOASSERTION");
	return 0;
}

/* "Debian X Team <x@lists.debian.org>" -> "Organization: Debian X Team (x@...)" */
static void sbom_supplier(const char *maintainer, char *out, size_t size)
{
	static const char *const groups[] = {
		"team", "maintainers", "project", "group", "developers", "lists.",
		"alioth", "packagers",
	};
	const char *lt = strchr(maintainer, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	int name_len = lt ? (int)(lt - maintainer) : (int)strlen(maintainer);
	const char *kind = "Person";
	size_t i;

	while (name_len > 0 && maintainer[name_len - 1] == ' ')
		name_len--;
	if (!*maintainer) {
		snprintf(out, size, "NOASSERTION");
		return;
	}
	for (i = 0; i < ARRAY_LEN(groups); i++)
		if (strcasestr(maintainer, groups[i]))
			kind = "Organization";
	if (lt && gt)
		snprintf(out, size, "%s: %.*s (%.*s)", kind, name_len, maintainer,
			 (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, size, "%s: %.*s", kind, name_len, maintainer);
}

static void sbom_spdxid(const char *prefix, size_t index, const char *name,
			char *out, size_t size)
{
	size_t i = (size_t)snprintf(out, size, "SPDXRef-%s-%zu-", prefix, index);

	for (; *name && i + 1 < size; name++)
		out[i++] = (isalnum((unsigned char)*name) || *name == '.' || *name == '-')
			   ? *name : '-';
	out[i < size ? i : size - 1] = '\0';
}

/* purl: pkg:deb/debian/NAME@VERSION?arch=ARCH, the version percent-encoded */
static void sbom_purl(const struct ib_pkg *p, char *out, size_t size)
{
	size_t i = (size_t)snprintf(out, size, "pkg:deb/debian/%s@", p->name);
	const char *v;

	for (v = p->version; *v && i + 4 < size; v++) {
		if (isalnum((unsigned char)*v) || strchr(".-_~", *v))
			out[i++] = *v;
		else
			i += (size_t)snprintf(out + i, size - i, "%%%02X", (unsigned char)*v);
	}
	snprintf(out + i, size - i, "?arch=%s", p->arch);
}

static int sbom_add(json_object *obj, const char *key, const char *value)
{
	json_object *s = json_object_new_string(value);

	if (!s)
		return -ENOMEM;
	return json_object_object_add(obj, key, s) ? -ENOMEM : 0;
}

static json_object *sbom_checksums(const char *sha256)
{
	json_object *arr = json_object_new_array(), *c = json_object_new_object();

	if (!arr || !c || sbom_add(c, "algorithm", "SHA256") ||
	    sbom_add(c, "checksumValue", sha256) || json_object_array_add(arr, c)) {
		json_object_put(arr);
		json_object_put(c);
		return NULL;
	}
	return arr;
}

/* A package with the fields every one of ours has. */
static json_object *sbom_package(const char *id, const char *name, const char *version,
				 const char *supplier, const char *license,
				 const char *sha256)
{
	json_object *p = json_object_new_object(), *sums;
	int err;

	if (!p)
		return NULL;
	err = sbom_add(p, "SPDXID", id);
	if (!err)
		err = sbom_add(p, "name", name);
	if (!err)
		err = sbom_add(p, "versionInfo", version);
	if (!err)
		err = sbom_add(p, "supplier", supplier);
	if (!err)
		err = sbom_add(p, "downloadLocation", "NOASSERTION");
	if (!err)
		err = json_object_object_add(p, "filesAnalyzed", json_object_new_boolean(0));
	if (!err && sha256) {
		sums = sbom_checksums(sha256);
		err = sums ? json_object_object_add(p, "checksums", sums) : -ENOMEM;
	}
	if (!err)
		err = sbom_add(p, "licenseConcluded", "NOASSERTION");
	if (!err)
		err = sbom_add(p, "licenseDeclared", license);
	if (!err)
		err = sbom_add(p, "copyrightText", "NOASSERTION");
	if (err) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

static int sbom_relate(json_object *rels, const char *from, const char *type, const char *to)
{
	json_object *r = json_object_new_object();

	if (!r || sbom_add(r, "spdxElementId", from) || sbom_add(r, "relationshipType", type) ||
	    sbom_add(r, "relatedSpdxElement", to) || json_object_array_add(rels, r)) {
		json_object_put(r);
		return -ENOMEM;
	}
	return 0;
}

/* Every LicenseRef- used by a package, declared once (sorted by first use). */
static int sbom_extracted(json_object *doc, const struct ib_inventory *inv)
{
	json_object *arr = json_object_new_array(), *seen = json_object_new_object();
	size_t i;
	int err = arr && seen ? 0 : -ENOMEM;

	for (i = 0; !err && i < inv->n; i++) {
		const char *p = inv->pkgs[i].license;

		if (!inv->pkgs[i].in_image)
			continue;
		while (!err && (p = strstr(p, "LicenseRef-"))) {
			char id[256], text[512];
			size_t len = strspn(p + 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");
			json_object *e;

			snprintf(id, sizeof(id), "%.*s", (int)(len + 11), p);
			p += 11 + len;
			if (json_object_object_get_ex(seen, id, NULL))
				continue;
			json_object_object_add(seen, id, NULL);
			snprintf(text, sizeof(text), "The license named '%s' in the Debian "
				 "copyright file (usr/share/doc/PACKAGE/copyright) of the "
				 "packages that declare it; it has no SPDX identifier.", id + 11);
			e = json_object_new_object();
			if (!e || sbom_add(e, "licenseId", id) || sbom_add(e, "name", id + 11) ||
			    sbom_add(e, "extractedText", text) || json_object_array_add(arr, e)) {
				json_object_put(e);
				err = -ENOMEM;
			}
		}
	}
	json_object_put(seen);
	if (!err && json_object_array_length(arr) > 0)
		return json_object_object_add(doc, "hasExtractedLicensingInfos", arr) ? -ENOMEM : 0;
	json_object_put(arr);
	return err;
}

int sbom_write(const struct ib_config *cfg, const struct ib_inventory *inv,
	       const struct sbom_meta *meta, const char *path)
{
	char created[32], id[600], supplier[600], purl[1024], tool[128], ns[256];
	char version[300], hex[2 * SHA256_LEN + 1];
	json_object *doc, *info, *creators, *pkgs, *rels, *p, *refs, *ref;
	const char *text;
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	time_t t = (time_t)cfg->source_date_epoch;
	struct tm tm;
	size_t i;
	int err = 0;

	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(tool, sizeof(tool), "Tool: jefe-image-build-%s", PACKAGE_VERSION);
	doc = json_object_new_object();
	info = json_object_new_object();
	creators = json_object_new_array();
	pkgs = json_object_new_array();
	rels = json_object_new_array();
	if (!doc || !info || !creators || !pkgs || !rels) {
		json_object_put(doc);
		json_object_put(info);
		json_object_put(creators);
		json_object_put(pkgs);
		json_object_put(rels);
		return -ENOMEM;
	}
	sbom_add(doc, "spdxVersion", "SPDX-2.3");
	sbom_add(doc, "dataLicense", "CC0-1.0");
	sbom_add(doc, "SPDXID", "SPDXRef-DOCUMENT");
	sbom_add(doc, "name", meta->image_name);
	sbom_add(doc, "documentNamespace", "");	/* set below, from the content */
	json_object_array_add(creators, json_object_new_string(tool));
	json_object_object_add(info, "creators", creators);
	sbom_add(info, "created", created);
	json_object_object_add(doc, "creationInfo", info);

	/* the image, the agent, the builder */
	p = sbom_package("SPDXRef-Image", "jefelinux", cfg->version,
			 "Organization: JefeLinux", "NOASSERTION", meta->iso_sha256);
	if (p) {
		snprintf(id, sizeof(id), "%s.iso", meta->image_name);
		sbom_add(p, "packageFileName", id);
		sbom_add(p, "primaryPackagePurpose", "OPERATING-SYSTEM");
	}
	err = p ? json_object_array_add(pkgs, p) : -ENOMEM;
	p = err ? NULL : sbom_package("SPDXRef-Agent", "jefe-agent", cfg->version,
				      "Organization: JefeLinux", "MIT", NULL);
	if (p) {
		snprintf(id, sizeof(id), "source revision %s; SHA-256 of its installed "
			 "tree (names, modes, contents) %s", cfg->agent_revision,
			 meta->agent_sha256);
		sbom_add(p, "sourceInfo", id);
		sbom_add(p, "primaryPackagePurpose", "APPLICATION");
	}
	err = err ? err : p ? json_object_array_add(pkgs, p) : -ENOMEM;
	p = err ? NULL : sbom_package("SPDXRef-Builder", "jefe-image-build", PACKAGE_VERSION,
				      "Organization: JefeLinux", "MIT", meta->builder_sha256);
	if (p)
		sbom_add(p, "primaryPackagePurpose", "APPLICATION");
	err = err ? err : p ? json_object_array_add(pkgs, p) : -ENOMEM;
	if (!err)
		err = sbom_relate(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
	if (!err)
		err = sbom_relate(rels, "SPDXRef-Image", "CONTAINS", "SPDXRef-Agent");
	if (!err)
		err = sbom_relate(rels, "SPDXRef-Builder", "BUILD_TOOL_OF", "SPDXRef-Image");

	for (i = 0; !err && i < inv->n; i++) {
		const struct ib_pkg *q = &inv->pkgs[i];

		if (!q->in_image)
			continue;
		sbom_spdxid("deb", i, q->name, id, sizeof(id));
		sbom_supplier(q->supplier, supplier, sizeof(supplier));
		p = sbom_package(id, q->name, q->version, supplier, q->license, q->sha256);
		snprintf(version, sizeof(version), "%s_%s_%s.deb", q->name, q->version, q->arch);
		refs = json_object_new_array();
		ref = json_object_new_object();
		sbom_purl(q, purl, sizeof(purl));
		if (!p || !refs || !ref || sbom_add(p, "packageFileName", version) ||
		    sbom_add(ref, "referenceCategory", "PACKAGE-MANAGER") ||
		    sbom_add(ref, "referenceType", "purl") ||
		    sbom_add(ref, "referenceLocator", purl) ||
		    json_object_array_add(refs, ref)) {
			json_object_put(p);
			json_object_put(refs);
			json_object_put(ref);
			err = -ENOMEM;
			break;
		}
		json_object_object_add(p, "externalRefs", refs);
		if (q->n_kept < q->n_total) {
			snprintf(purl, sizeof(purl), "Partly in the image: %zu of its %zu files "
				 "(documentation aside); the rest was removed by the image "
				 "build.", q->n_kept, q->n_total);
			sbom_add(p, "comment", purl);
		}
		err = json_object_array_add(pkgs, p) ? -ENOMEM : 0;
		if (!err)
			err = sbom_relate(rels, "SPDXRef-Image", "CONTAINS", id);
	}
	json_object_object_add(doc, "packages", pkgs);
	json_object_object_add(doc, "relationships", rels);
	if (!err)
		err = sbom_extracted(doc, inv);

	/* The namespace names this content: a hash of the document without it. */
	if (!err) {
		text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
		sha256_init(&h);
		sha256_update_str(&h, text);
		sha256_final(&h, md);
		sha256_hex(md, hex);
		snprintf(ns, sizeof(ns), "https://spdx.org/spdxdocs/%s-%s",
			 meta->image_name, hex);
		err = sbom_add(doc, "documentNamespace", ns);
	}
	if (!err) {
		text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
		char *withnl = NULL;

		if (asprintf(&withnl, "%s\n", text) < 0)
			err = -ENOMEM;
		else
			err = fs_write_file(path, withnl, strlen(withnl), 0644);
		free(withnl);
	}
	json_object_put(doc);
	return err;
}
