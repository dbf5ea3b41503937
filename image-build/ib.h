/* SPDX-License-Identifier: MIT */
/*
 * jefe-image-build: the five-stage pipeline that turns this source tree
 * into a bootable hybrid BIOS/UEFI ISO.
 *
 *   1 Bootstrap     a minimal root from a base (debian: mmdebstrap, alpine: apk)
 *   2 Packages      the profile's packages; package manager and docs removed
 *   3 Security      the agent, policies, services, SUID allowlist, accounts
 *   4 Overlay       image-build/overlay and --overlay DIRs, fixed owners/modes
 *   5 ISO Creation  squashfs, initramfs, GRUB (BIOS + UEFI), xorriso
 *
 * Each stage reads the previous stage's cached result and writes its own
 * into a temporary directory that is renamed into the cache only when the
 * stage succeeded, so an interrupted build never leaves a half entry.
 */
#ifndef IB_H
#define IB_H

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sha256.h"

#define IB_STAGES 5
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IB_MAX_OVERLAYS 8

/* Private error codes, above errno and above the agent's (1024..). */
enum ib_error {
	IB_ECOMMAND = 2048,	/* an external command failed (details in the stage) */
	IB_ENOTOOL,		/* a host tool is missing (named with its package) */
	IB_EINPUT,		/* bad input: option, package list, overlay */
	IB_ENOCACHE,		/* --from-stage N needs cached results of stages < N */
	IB_ELOCK,		/* a locked package is missing or its hash differs */
};

const char *ib_strerror(int err);

/* How the ISO's UEFI side is signed (docs/secure-boot.md). */
enum ib_secure_boot {
	IB_SB_MICROSOFT,	/* Debian's signed shim, GRUB and kernel */
	IB_SB_OWN,		/* a UKI signed with the site's key; dm-verity root */
};

struct ib_config {
	const char *srcdir;		/* source tree: image-build/ lives here */
	const char *workdir;		/* cache and scratch space */
	const char *outdir;		/* ISO, .sha256, manifest */
	const char *base;		/* "debian" or "alpine" */
	const char *arch;		/* "x86_64" */
	const char *suite;		/* debian suite / alpine branch */
	const char *mirror;		/* debian: main archive URL; alpine: mirror */
	const char *security_mirror;	/* debian only */
	const char *agent_destdir;	/* agent installed here (build.sh --target agent) */
	const char *agent_revision;	/* written to the manifest */
	const char *authorized_keys;	/* admin's SSH keys */
	const char *apk_keys;		/* alpine: directory of the repositories' keys */
	const char *overlays[IB_MAX_OVERLAYS];
	size_t n_overlays;
	const char *version;		/* product version, "0.1.0" */
	const char *label;		/* ISO volume label, found by the initramfs */
	const char *syslog_remote;	/* "HOST:PORT" of the log collector, or NULL */
	const char *syslog_ca;		/* CA file the collector's certificate chains to */
	long long source_date_epoch;
	int from_stage;			/* 1: use the cache for everything unchanged */
	bool no_cache;
	const char *lock_path;		/* --lock: install exactly these packages */
	const struct ib_lock *lock;	/* its parsed content, NULL without --lock */
	const char *package_cache;	/* --package-cache: every .deb kept here */
	bool offline;			/* --offline: packages only from the cache */
	uint8_t self_hash[SHA256_LEN];	/* the tool's own binary: a new tool, a new key */
	enum ib_secure_boot secure_boot;
	const char *sign_key;		/* own: PEM private key; never cached, never hashed */
	const char *sign_cert;		/* own: PEM certificate (its hash is in the key) */
};

struct ib_stage_ctx;

/* --- lock.c: the exact package set of an image --- */

struct ib_lock_pkg {
	char *name;
	char *version;
	char *arch;
	char sha256[2 * SHA256_LEN + 1];
};

struct ib_lock {
	char *base, *suite, *arch;	/* header fields checked against the build */
	struct ib_lock_pkg *pkgs;	/* sorted by name, as written */
	size_t n;
	char digest[2 * SHA256_LEN + 1];	/* of the package lines only */
};

/* Parses a lock; errors name the file and line.  Frees with lock_free. */
int lock_read(const char *path, struct ib_lock *lock);
void lock_free(struct ib_lock *lock);
/* "name_version_arch.deb" as apt names a downloaded package (':' as %3a) */
int lock_deb_name(const char *name, const char *version, const char *arch,
		  char *buf, size_t size);
const struct ib_lock_pkg *lock_find(const struct ib_lock *lock, const char *name,
				    const char *arch);
/* The directory holding the locked .debs (--package-cache or WORKDIR/packages). */
int lock_cache_dir(const struct ib_config *cfg, char *buf, size_t size);
/* Every locked .deb in the cache (downloaded first unless --offline), its
 * SHA-256 checked, then a flat repository of exactly those in repo. */
int lock_repo_make(struct ib_stage_ctx *ctx, const char *repo);
/* WORKDIR/lock-repo: where stages 1 and 2 find the locked repository */
int lock_repo_dir(const struct ib_config *cfg, char *buf, size_t size);
struct ib_inventory;
/* out/NAME.lock: the header, then every installed package */
int lock_write(const struct ib_config *cfg, const struct ib_inventory *inv,
	       const char *path);

/* --- inventory.c: what stage 2 installed, and what the image keeps --- */

struct ib_pkg {
	char *name, *version, *arch;
	char *supplier;			/* the Maintainer field */
	char *license;			/* SPDX expression or NOASSERTION */
	char sha256[2 * SHA256_LEN + 1];	/* of the .deb */
	char **files;			/* non-directory files, documentation aside */
	size_t n_files;
	size_t n_total, n_kept;		/* of those files: how many, how many left */
	bool in_image;			/* some file left after the removals */
};

struct ib_inventory {
	struct ib_pkg *pkgs;
	size_t n;
};

int inventory_add(struct ib_inventory *inv, struct ib_pkg *pkg);
void inventory_free(struct ib_inventory *inv);
/* After the removals: which packages still have a file in root. */
void inventory_settle(struct ib_inventory *inv, const char *root);
/* IB_INVENTORY (every field, tab-separated) and IB_PACKAGES ("name version"
 * of what the image holds) into dir. */
int inventory_write(const struct ib_inventory *inv, const char *dir);
int inventory_read(const char *path, struct ib_inventory *inv);

/* --- sbom.c --- */

/* A DEP-5 copyright file's License: names as one SPDX expression into
 * out ("NOASSERTION" when the file is not machine-readable). */
int sbom_license_from_copyright(const char *text, char *out, size_t size);
struct sbom_meta {
	const char *image_name;		/* jefelinux-0.1.0-x86_64 */
	const char *iso_sha256;
	const char *agent_sha256;	/* of the agent staging tree */
	const char *builder_sha256;	/* of jefe-image-build */
};
int sbom_write(const struct ib_config *cfg, const struct ib_inventory *inv,
	       const struct sbom_meta *meta, const char *path);

/* What one stage run sees. */
struct ib_stage_ctx {
	const struct ib_config *cfg;
	int index;			/* 1..IB_STAGES */
	const char *name;
	const char *prev;		/* previous stage's result directory, NULL for 1 */
	const char *out;		/* this stage's (temporary) result directory */
	char key[2 * SHA256_LEN + 1];	/* the stage's cache key, hex */
	char log_path[PATH_MAX];	/* output of every command of this stage */
	char failed[1024];		/* the command that failed, for the report */
	sigset_t *sigs;			/* blocked signals that mean "interrupted" */
	int root_fd;			/* the image root (fs_root_open) once the stage
					 * has one, else -1; closed by the pipeline */
};

/* A stage: its own inputs for the cache key, and its work. */
struct ib_stage {
	const char *name;
	int (*key)(const struct ib_config *cfg, struct sha256 *h);
	int (*run)(struct ib_stage_ctx *ctx);
};

extern const struct ib_stage ib_stage_table[IB_STAGES];

int stage_bootstrap_key(const struct ib_config *cfg, struct sha256 *h);
int stage_bootstrap_run(struct ib_stage_ctx *ctx);
int stage_packages_key(const struct ib_config *cfg, struct sha256 *h);
int stage_packages_run(struct ib_stage_ctx *ctx);
int stage_security_key(const struct ib_config *cfg, struct sha256 *h);
int stage_security_run(struct ib_stage_ctx *ctx);
int stage_overlay_key(const struct ib_config *cfg, struct sha256 *h);
int stage_overlay_run(struct ib_stage_ctx *ctx);
int stage_iso_key(const struct ib_config *cfg, struct sha256 *h);
/* The kernel command line of every boot path: jefe.label=, then the
 * dm-verity arguments (own mode; "" otherwise), then the fixed arguments. */
int stage_iso_cmdline(const struct ib_config *cfg, const char *verity, char *out,
		      size_t size);
int stage_iso_run(struct ib_stage_ctx *ctx);

/* stage_overlay.c: 0 when S is "HOST:PORT" (port 1..65535), else -IB_EINPUT */
int overlay_syslog_remote_check(const char *s);
/* 0 when FILE holds a PEM certificate; else prints why, -errno/-IB_EINPUT */
int overlay_syslog_ca_check(const char *file);

/* openrc.c: the image's OpenRC boot (docs/image-build.md).  Stage 3
 * empties every runlevel of what the packages enabled, before it enables
 * the agent's services; stage 4, after the overlays, enables the base
 * system's native services, checks that every runlevel entry is an
 * OpenRC script, and writes OpenRC's dependency cache into the image. */
int openrc_runlevels_reset(int root_fd);
int openrc_boot_install(struct ib_stage_ctx *ctx, const char *root);

/* stage_packages.c helpers shared with later stages */
/* Remove what globs match below dir (a host path at or below root, the
 * image root that root_fd is open on). */
int packages_glob_remove(int root_fd, const char *root, const char *dir,
			 const char *const *globs);
int packages_kernel_version(int root_fd, char *out, size_t size);

struct ib_tool;

/* A base distribution: how to bootstrap it, install into it, list it. */
struct ib_base {
	const char *name;
	int (*bootstrap)(struct ib_stage_ctx *ctx, const char *root,
			 char *const *pkgs, size_t n);
	int (*install)(struct ib_stage_ctx *ctx, const char *root,
		       char *const *pkgs, size_t n);
	/* "name version" lines, sorted, into path */
	int (*manifest)(struct ib_stage_ctx *ctx, const char *root, const char *path);
	/* every installed package with its .deb's hash, supplier, license
	 * and files, before the removals (NULL: no lock or SBOM, alpine) */
	int (*inventory)(struct ib_stage_ctx *ctx, const char *root,
			 struct ib_inventory *inv);
	/* the package manager's own files, removed from the final image */
	const char *const *pm_paths;

	/* Each base's defaults and abilities, so no stage or option asks
	 * for a base by name. */
	const char *default_suite;	/* --suite when none is given */
	/* The mirrors when --mirror/--security-mirror are not given: the
	 * host's own for this suite, else the public ones ("" for none). */
	int (*default_mirrors)(const char *suite, char *main_url, size_t main_size,
			       char *sec_url, size_t sec_size);
	bool locks;			/* --lock and --package-cache work */
	const struct ib_tool *tools;	/* host tools its bootstrap needs */
	size_t n_tools;
};

extern const struct ib_base base_debian;
int debian_mirror_detect(const char *suite, char *main_url, size_t main_size,
			 char *sec_url, size_t sec_size);
extern const struct ib_base base_alpine;
const struct ib_base *base_find(const char *name);

/* --- run.c: external commands, fork/execvp with explicit argv --- */

struct ib_run_opts {
	const char *chroot;	/* run inside this root, in a private mount namespace */
	const char *stdin_path;	/* default /dev/null */
	const char *stdout_path;/* default: the stage log */
	char *const *env;	/* extra NAME=VALUE entries, NULL-terminated */
	bool no_log;		/* don't append the command line to the log */
};

/* Runs argv[0] (PATH lookup); 0, -IB_ECOMMAND (ctx->failed says which),
 * -EINTR when a blocked signal arrived (the command was killed). */
int run_cmd(struct ib_stage_ctx *ctx, const struct ib_run_opts *o,
	    char *const argv[]);

struct ib_tool {
	const char *name;	/* program on PATH, or an absolute path */
	const char *package;	/* the Debian package that provides it */
};

/* 0 or -IB_ENOTOOL after printing every missing tool with its package. */
int run_tools_check(const struct ib_tool *tools, size_t n);

/* --- fs.c: files and trees --- */

int fs_rm_rf(const char *path);
int fs_mkdir_p(const char *path, mode_t mode);
/* cp -a: a full copy, so a stage never writes into a cached entry */
int fs_copy_tree(struct ib_stage_ctx *ctx, const char *from, const char *to);
int fs_copy_file(const char *from, const char *to, mode_t mode);
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);
int fs_read_file(const char *path, char **out, size_t *len);
/* Content, names, types and modes of a tree, in sorted order. */
int fs_tree_hash(const char *path, struct sha256 *h);
int fs_file_hash(const char *path, struct sha256 *h);
/* Lines of a list file, '#' comments and blanks dropped; *out malloc'ed. */
int fs_list_read(const char *path, char ***out, size_t *n);
void fs_list_free(char **v, size_t n);
/*
 * Writes into the image root go through its O_DIRECTORY fd (fs_root_open),
 * every path below it resolved as if it were "/" (openat2 RESOLVE_IN_ROOT,
 * agent/rootfs.c): a symlink in the image can never lead a write, chmod,
 * chown or unlink out of it onto the build host.  rel is a path below the
 * root ("etc/x" or "/etc/x").  All return 0 (fs_root_open: the fd) or -errno.
 */
int fs_root_open(const char *path);
int fs_root_write(int root_fd, const char *rel, const void *data, size_t len, mode_t mode);
int fs_root_copy_file(int root_fd, const char *from, const char *rel, mode_t mode);
int fs_root_read(int root_fd, const char *rel, char **out, size_t *len);
int fs_root_mkdir_p(int root_fd, const char *rel, mode_t mode);
int fs_root_chmod(int root_fd, const char *rel, mode_t mode);
int fs_root_chown(int root_fd, const char *rel, uid_t uid, gid_t gid);
int fs_root_lchown(int root_fd, const char *rel, uid_t uid, gid_t gid);
int fs_root_symlink(int root_fd, const char *target, const char *rel);
int fs_root_unlink(int root_fd, const char *rel);
struct stat;
int fs_root_stat(int root_fd, const char *rel, struct stat *st, bool follow);
int fs_root_rename(int root_fd, const char *from, const char *to);
int fs_root_rm_rf(int root_fd, const char *rel);
int fs_root_rmdir(int root_fd, const char *rel);
int fs_root_opendir(int root_fd, const char *rel, DIR **out);
/* An --overlay: the host tree src over rel, owned by uid:gid (the image's
 * root:root), never out of the root. */
int fs_root_copy_tree(int root_fd, const char *src, const char *rel, uid_t uid, gid_t gid);
int fs_path_join(char *buf, size_t size, const char *a, const char *b);

#define IB_PATH(buf, a, b) fs_path_join((buf), sizeof(buf), (a), (b))

/* Directory of the stage's root filesystem within a result directory. */
#define IB_ROOTFS "rootfs"
#define IB_PACKAGES "packages.txt"
#define IB_INVENTORY "inventory.tsv"
#define IB_ISO "image.iso"

#endif
