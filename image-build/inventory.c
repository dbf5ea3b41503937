/* SPDX-License-Identifier: MIT */
/*
 * The inventory: every package stage 2 installed, with what the lock and
 * the SBOM need (version, architecture, the .deb's SHA-256, supplier,
 * license), and whether the image still holds it.  The package manager's
 * own packages (apt, dpkg, debconf...) are installed to build the root and
 * then removed file by file: a package whose every file (documentation
 * aside) is gone is not in the image, so neither the manifest nor the SBOM
 * lists it; the lock does, since a rebuild installs it again.
 *
 * Stored in stage 2's result as IB_INVENTORY, one package a line:
 *   name TAB version TAB arch TAB sha256 TAB kept/total TAB supplier TAB license
 * where kept/total counts the package's files (directories and
 * documentation aside) left in the image / installed: dpkg is "1/n" since
 * OpenRC uses its start-stop-daemon, apt is "0/n".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ib.h"

static void inventory_pkg_free(struct ib_pkg *p)
{
	size_t i;

	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->supplier);
	free(p->license);
	memset(p, 0, sizeof(*p));
}

void inventory_free(struct ib_inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		inventory_pkg_free(&inv->pkgs[i]);
	free(inv->pkgs);
	inv->pkgs = NULL;
	inv->n = 0;
}

/* Takes ownership of pkg's strings. */
int inventory_add(struct ib_inventory *inv, struct ib_pkg *pkg)
{
	/* grows by one: a few hundred packages */
	struct ib_pkg *v = realloc(inv->pkgs, (inv->n + 1) * sizeof(*v));

	if (!v) {
		inventory_pkg_free(pkg);
		return -ENOMEM;
	}
	inv->pkgs = v;
	inv->pkgs[inv->n++] = *pkg;
	memset(pkg, 0, sizeof(*pkg));
	return 0;
}

void inventory_settle(struct ib_inventory *inv, const char *root)
{
	size_t i, j;

	for (i = 0; i < inv->n; i++) {
		struct ib_pkg *p = &inv->pkgs[i];

		p->n_total = p->n_files;
		p->n_kept = 0;
		for (j = 0; j < p->n_files; j++) {
			char path[PATH_MAX];
			struct stat st;

			if (IB_PATH(path, root, p->files[j]) == 0 && lstat(path, &st) == 0)
				p->n_kept++;
		}
		/* a package of documentation only (a metapackage) stays */
		p->in_image = p->n_kept > 0 || p->n_total == 0;
	}
}

static int inventory_cmp(const void *a, const void *b)
{
	const struct ib_pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch, y->arch);
}

int inventory_write(const struct ib_inventory *inv, const char *dir)
{
	char path[PATH_MAX];
	char *tsv = NULL, *list = NULL;
	size_t tsv_len = 0, list_len = 0, i;
	FILE *ft, *fl;
	int err;

	qsort(inv->pkgs, inv->n, sizeof(*inv->pkgs), inventory_cmp);
	ft = open_memstream(&tsv, &tsv_len);
	fl = open_memstream(&list, &list_len);
	if (!ft || !fl) {
		if (ft)
			fclose(ft);
		if (fl)
			fclose(fl);
		free(tsv);
		free(list);
		return -ENOMEM;
	}
	for (i = 0; i < inv->n; i++) {
		const struct ib_pkg *p = &inv->pkgs[i];

		fprintf(ft, "%s\t%s\t%s\t%s\t%zu/%zu\t%s\t%s\n", p->name, p->version,
			p->arch, p->sha256, p->n_kept, p->n_total, p->supplier, p->license);
		if (p->in_image)
			fprintf(fl, "%s %s\n", p->name, p->version);
	}
	fclose(ft);
	fclose(fl);
	err = IB_PATH(path, dir, IB_INVENTORY);
	if (!err)
		err = fs_write_file(path, tsv, tsv_len, 0644);
	if (!err)
		err = IB_PATH(path, dir, IB_PACKAGES);
	if (!err)
		err = fs_write_file(path, list, list_len, 0644);
	free(tsv);
	free(list);
	return err;
}

int inventory_read(const char *path, struct ib_inventory *inv)
{
	char *data, *line, *next;
	int err, lineno = 0;

	memset(inv, 0, sizeof(*inv));
	err = fs_read_file(path, &data, NULL);
	if (err < 0)
		return err;
	for (line = data; !err && line && *line; line = next) {
		struct ib_pkg p = { 0 };
		char *f[7], *rest = line;
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		for (nf = 0; nf < 7 && rest; nf++)
			f[nf] = strsep(&rest, "\t");
		if (nf < 7) {
			fprintf(stderr, "jefe-image-build: %s line %d: expected 7 fields\n",
				path, lineno);
			err = -IB_EINPUT;
			break;
		}
		p.name = strdup(f[0]);
		p.version = strdup(f[1]);
		p.arch = strdup(f[2]);
		snprintf(p.sha256, sizeof(p.sha256), "%s", f[3]);
		if (sscanf(f[4], "%zu/%zu", &p.n_kept, &p.n_total) != 2) {
			fprintf(stderr, "jefe-image-build: %s line %d: '%s' is not "
				"KEPT/TOTAL\n", path, lineno, f[4]);
			err = -IB_EINPUT;
			break;
		}
		p.in_image = p.n_kept > 0 || p.n_total == 0;
		p.supplier = strdup(f[5]);
		p.license = strdup(f[6]);
		if (!p.name || !p.version || !p.arch || !p.supplier || !p.license) {
			inventory_pkg_free(&p);
			err = -ENOMEM;
			break;
		}
		err = inventory_add(inv, &p);
	}
	free(data);
	if (err < 0)
		inventory_free(inv);
	return err;
}
