/* SPDX-License-Identifier: MIT */
/*
 * Stage 5, ISO Creation.
 *
 *   live/root.sfs      the root as squashfs (mounted read-only under a tmpfs
 *                      overlay by the initramfs: an immutable root)
 *   boot/vmlinuz       the image's kernel
 *   boot/initrd.img    our initramfs: image-build/initramfs/init, a static
 *                      BusyBox and the storage drivers, written here as a
 *                      newc cpio with fixed owners, times and inode numbers
 *   boot/grub/bios.img GRUB core for BIOS (El Torito, and the hybrid MBR)
 *   partition 2        FAT image with EFI/BOOT/BOOTX64.EFI (UEFI)
 *
 * Everything is assembled by xorriso from GRUB images made with
 * grub-mkimage; grub-mkrescue would stamp the current time into the image.
 * Every date is SOURCE_DATE_EPOCH; the GPT GUID and the FAT serial are
 * derived from the stage's cache key, so two builds of the same inputs
 * give the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ib.h"

/* Drivers the initramfs loads (with their dependencies) to find the
 * medium: qemu, bare metal (ahci, nvme, usb) and Hyper-V; NIC drivers too,
 * since the agent may forbid module loading once it runs. */
static const char *const iso_initramfs_modules[] = {
	"loop", "squashfs", "overlay", "isofs", "nls_utf8", "nls_cp437",
	"cdrom", "sr_mod", "sd_mod", "ata_piix", "ata_generic", "pata_acpi", "ahci",
	"nvme", "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net",
	"usb_storage", "uas", "xhci_pci", "ehci_pci", "ohci_pci", "uhci_hcd",
	"usbhid", "hid_generic",
	"hv_vmbus", "hv_storvsc", "hv_netvsc", "hv_utils", "hyperv_keyboard",
	"hid_hyperv",
	"e1000", "e1000e",
};

/* Without these the root cannot be mounted at all. */
static const char *const iso_required_modules[] = {
	"loop", "squashfs", "overlay", "isofs",
};

static const char *const iso_grub_bios_modules[] = {
	"biosdisk", "iso9660", "part_msdos", "part_gpt", "search", "search_label",
	"search_fs_uuid", "normal", "configfile", "linux", "echo", "test", "serial",
	"terminal", "gzio", "boot", "halt", "reboot", "sleep",
};

static const char *const iso_grub_efi_modules[] = {
	"part_msdos", "part_gpt", "iso9660", "fat", "search", "search_label",
	"search_fs_uuid", "normal", "configfile", "linux", "echo", "test", "serial",
	"terminal", "gzio", "boot", "halt", "reboot", "sleep", "efi_gop",
	"efi_uga", "all_video",
};

#define GRUB_BIOS_DIR "/usr/lib/grub/i386-pc"
#define GRUB_EFI_DIR "/usr/lib/grub/x86_64-efi"

int stage_iso_key(const struct ib_config *cfg, struct sha256 *h)
{
	char path[PATH_MAX], sde[32];
	int err;

	sha256_update_str(h, cfg->label);
	sha256_update_str(h, cfg->version);
	snprintf(sde, sizeof(sde), "%lld", cfg->source_date_epoch);
	sha256_update_str(h, sde);
	err = IB_PATH(path, cfg->srcdir, "image-build/initramfs");
	if (!err)
		err = fs_tree_hash(path, h);
	if (!err)
		err = IB_PATH(path, cfg->srcdir, "image-build/grub");
	if (!err)
		err = fs_tree_hash(path, h);
	return err;
}

/* --- kernel modules: the closure of what the initramfs needs --- */

struct iso_moddep {
	char **path;		/* "kernel/fs/isofs/isofs.ko" */
	char **deps;		/* the rest of the line */
	size_t n;
	char *builtin;		/* modules.builtin, whole */
};

static void iso_modname(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t i;

	snprintf(out, size, "%s", base ? base + 1 : path);
	out[strcspn(out, ".")] = '\0';
	for (i = 0; out[i]; i++)
		if (out[i] == '-')
			out[i] = '_';
}

static void iso_moddep_free(struct iso_moddep *md)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		free(md->path[i]);
	free(md->path);
	free(md->deps);
	free(md->builtin);
}

static int iso_moddep_load(const char *kdir, struct iso_moddep *md)
{
	char path[PATH_MAX];
	char *data, *line, *save = NULL;
	int err;

	memset(md, 0, sizeof(*md));
	err = IB_PATH(path, kdir, "modules.builtin");
	if (!err)
		err = fs_read_file(path, &md->builtin, NULL);
	if (!err)
		err = IB_PATH(path, kdir, "modules.dep");
	if (!err)
		err = fs_read_file(path, &data, NULL);
	if (err < 0)
		return err;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		char **np, **nd;

		if (!colon)
			continue;
		*colon = '\0';
		np = realloc(md->path, (md->n + 1) * sizeof(*np));
		if (np)
			md->path = np;
		nd = realloc(md->deps, (md->n + 1) * sizeof(*nd));
		if (nd)
			md->deps = nd;
		if (!np || !nd) {
			err = -ENOMEM;
			break;
		}
		/* one allocation: "path\0deps\0" */
		md->path[md->n] = malloc(strlen(line) + strlen(colon + 1) + 2);
		if (!md->path[md->n]) {
			err = -ENOMEM;
			break;
		}
		strcpy(md->path[md->n], line);
		md->deps[md->n] = md->path[md->n] + strlen(line) + 1;
		strcpy(md->deps[md->n], colon + 1);
		md->n++;
	}
	free(data);
	return err;
}

static long iso_moddep_find(const struct iso_moddep *md, const char *name)
{
	char n[256];
	size_t i;

	for (i = 0; i < md->n; i++) {
		iso_modname(md->path[i], n, sizeof(n));
		if (!strcmp(n, name))
			return (long)i;
	}
	return -1;
}

static bool iso_builtin(const struct iso_moddep *md, const char *name)
{
	char n[256];
	const char *p;

	for (p = md->builtin; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		char line[PATH_MAX];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		iso_modname(line, n, sizeof(n));
		if (!strcmp(n, name))
			return true;
	}
	return false;
}

/* Depth first: a module's dependencies before it, each once. */
static int iso_closure_add(const struct iso_moddep *md, size_t idx, bool *seen,
			   size_t *order, size_t *n, int depth)
{
	char deps[4096];
	char *dep, *save = NULL;
	int err = 0;

	if (seen[idx])
		return 0;
	if (depth > 32)
		return -ELOOP;
	seen[idx] = true;
	snprintf(deps, sizeof(deps), "%s", md->deps[idx]);
	for (dep = strtok_r(deps, " ", &save); !err && dep; dep = strtok_r(NULL, " ", &save)) {
		char name[256];
		long d;

		iso_modname(dep, name, sizeof(name));
		d = iso_moddep_find(md, name);
		if (d >= 0)
			err = iso_closure_add(md, (size_t)d, seen, order, n, depth + 1);
	}
	order[(*n)++] = idx;
	return err;
}

/* --- a newc cpio, written by hand so every field is ours to fix --- */

struct iso_cpio {
	FILE *f;
	unsigned ino;
	long long mtime;
};

static int iso_cpio_entry(struct iso_cpio *c, const char *name, mode_t mode,
			  dev_t rdev, const void *data, size_t size)
{
	static const char zero[4];
	size_t namesize = strlen(name) + 1;

	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08llX%08zX%08X%08X%08X%08X%08zX%08X",
		c->ino++, (unsigned)mode, 0u, 0u, 1u, (unsigned long long)c->mtime, size,
		0u, 0u, major(rdev), minor(rdev), namesize, 0u);
	fwrite(name, 1, namesize, c->f);
	fwrite(zero, 1, (4 - (110 + namesize) % 4) % 4, c->f);
	if (size) {
		fwrite(data, 1, size, c->f);
		fwrite(zero, 1, (4 - size % 4) % 4, c->f);
	}
	return ferror(c->f) ? -EIO : 0;
}

static int iso_cpio_file(struct iso_cpio *c, const char *name, const char *src,
			 mode_t perm)
{
	char *data;
	size_t len;
	int err;

	err = fs_read_file(src, &data, &len);
	if (err < 0) {
		fprintf(stderr, "jefe-image-build: initramfs: %s: %s\n", src, strerror(-err));
		return err;
	}
	err = iso_cpio_entry(c, name, S_IFREG | perm, 0, data, len);
	free(data);
	return err;
}

/* The initramfs' BusyBox runs before any library is there: it must be
 * static, i.e. an ELF without a PT_INTERP program header. */
static int iso_elf_static_check(const char *path)
{
	unsigned char eh[64], ph[56];
	unsigned long long phoff;
	unsigned phnum, phentsize, i;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh, "\177ELF", 4) || eh[4] != 2) {
		close(fd);
		return -ENOEXEC;
	}
	memcpy(&phoff, eh + 32, 8);
	phentsize = eh[54] | eh[55] << 8;
	phnum = eh[56] | eh[57] << 8;
	for (i = 0; i < phnum && !err; i++) {
		unsigned type;

		if (pread(fd, ph, sizeof(ph), (off_t)(phoff + i * phentsize)) != (ssize_t)sizeof(ph))
			err = -ENOEXEC;
		memcpy(&type, ph, 4);
		if (!err && type == 3)	/* PT_INTERP */
			err = -ENOEXEC;
	}
	close(fd);
	return err;
}

static int iso_initramfs(struct ib_stage_ctx *ctx, const char *root,
			 const char *kver, const char *out)
{
	static const char *const dirs[] = {
		"bin", "dev", "etc", "lib", "lib/modules", "mnt", "mnt/medium",
		"mnt/ro", "mnt/rw", "newroot", "proc", "sys", "run", "tmp",
	};
	char kdir[PATH_MAX], path[PATH_MAX], cpio_path[PATH_MAX], name[300];
	char *gzip[] = { "gzip", "-n", "-9", "-c", NULL };
	struct ib_run_opts o = { .stdin_path = cpio_path, .stdout_path = out };
	struct iso_cpio c = { .ino = 1, .mtime = ctx->cfg->source_date_epoch };
	struct iso_moddep md;
	size_t *order = NULL, n = 0, i, load_len = 0;
	char *load = NULL;
	bool *seen = NULL;
	int err;

	if (snprintf(kdir, sizeof(kdir), "%s/lib/modules/%s", root, kver) >= (int)sizeof(kdir))
		return -ENAMETOOLONG;
	err = iso_moddep_load(kdir, &md);
	if (err < 0)
		return err;
	seen = calloc(md.n + 1, sizeof(*seen));
	order = calloc(md.n + 1, sizeof(*order));
	load = calloc(md.n + 1, 64);
	if (!seen || !order || !load) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; !err && i < ARRAY_LEN(iso_initramfs_modules); i++) {
		long idx = iso_moddep_find(&md, iso_initramfs_modules[i]);
		size_t r;
		bool required = false;

		for (r = 0; r < ARRAY_LEN(iso_required_modules); r++)
			required |= !strcmp(iso_required_modules[r], iso_initramfs_modules[i]);
		if (idx >= 0)
			err = iso_closure_add(&md, (size_t)idx, seen, order, &n, 0);
		else if (required && !iso_builtin(&md, iso_initramfs_modules[i])) {
			snprintf(ctx->failed, sizeof(ctx->failed),
				 "the kernel %s has no module '%s' (needed to mount the root)",
				 kver, iso_initramfs_modules[i]);
			err = -IB_EINPUT;
		}
	}
	if (err < 0)
		goto out;

	err = IB_PATH(path, root, "bin/busybox");
	if (!err && iso_elf_static_check(path) < 0) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "%.900s is not a static BusyBox (add busybox-static to the profile)",
			 path);
		err = -IB_EINPUT;
	}
	if (err < 0)
		goto out;
	if (snprintf(cpio_path, sizeof(cpio_path), "%s.cpio", out) >= (int)sizeof(cpio_path)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	c.f = fopen(cpio_path, "we");
	if (!c.f) {
		err = -errno;
		goto out;
	}
	for (i = 0; !err && i < ARRAY_LEN(dirs); i++)
		err = iso_cpio_entry(&c, dirs[i], S_IFDIR | 0755, 0, NULL, 0);
	/* The kernel opens /dev/console for init before devtmpfs exists. */
	if (!err)
		err = iso_cpio_entry(&c, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0);
	if (!err)
		err = iso_cpio_entry(&c, "dev/null", S_IFCHR | 0666, makedev(1, 3), NULL, 0);
	if (!err)
		err = IB_PATH(path, ctx->cfg->srcdir, "image-build/initramfs/init");
	if (!err)
		err = iso_cpio_file(&c, "init", path, 0755);
	if (!err)
		err = IB_PATH(path, root, "bin/busybox");
	if (!err)
		err = iso_cpio_file(&c, "bin/busybox", path, 0755);
	/* Flat: /lib/modules/NAME.ko, loaded in the order of /lib/modules/load. */
	for (i = 0; !err && i < n; i++) {
		char mod[256];

		iso_modname(md.path[order[i]], mod, sizeof(mod));
		snprintf(name, sizeof(name), "lib/modules/%s.ko", mod);
		err = IB_PATH(path, kdir, md.path[order[i]]);
		if (!err)
			err = iso_cpio_file(&c, name, path, 0644);
		load_len += (size_t)sprintf(load + load_len, "%s\n", mod);
	}
	if (!err)
		err = iso_cpio_entry(&c, "lib/modules/load", S_IFREG | 0644, 0, load, load_len);
	if (!err)
		err = iso_cpio_entry(&c, "TRAILER!!!", 0, 0, NULL, 0);
	if (fclose(c.f) != 0 && !err)
		err = -errno;
	if (!err)
		err = run_cmd(ctx, &o, gzip);
	unlink(cpio_path);
out:
	iso_moddep_free(&md);
	free(seen);
	free(order);
	free(load);
	return err;
}

/* --- GRUB --- */

static int iso_template(const char *src, const char *dst, const struct ib_config *cfg)
{
	char *in, *out, *p, *o;
	size_t len;
	int err;

	err = fs_read_file(src, &in, &len);
	if (err < 0)
		return err;
	out = malloc(len * 2 + 1024);
	if (!out) {
		free(in);
		return -ENOMEM;
	}
	for (p = in, o = out; *p;) {
		if (!strncmp(p, "@LABEL@", 7)) {
			o += sprintf(o, "%s", cfg->label);
			p += 7;
		} else if (!strncmp(p, "@VERSION@", 9)) {
			o += sprintf(o, "%s", cfg->version);
			p += 9;
		} else {
			*o++ = *p++;
		}
	}
	err = fs_write_file(dst, out, (size_t)(o - out), 0644);
	free(in);
	free(out);
	return err;
}

static int iso_grub_mkimage(struct ib_stage_ctx *ctx, const char *format,
			    const char *moddir, const char *early, const char *out,
			    const char *const *mods, size_t nmods)
{
	char *argv[64];
	size_t a = 0, i;

	argv[a++] = "grub-mkimage";
	argv[a++] = "-O";
	argv[a++] = (char *)format;
	argv[a++] = "-d";
	argv[a++] = (char *)moddir;
	argv[a++] = "-p";
	argv[a++] = "/boot/grub";
	argv[a++] = "-c";
	argv[a++] = (char *)early;
	argv[a++] = "-o";
	argv[a++] = (char *)out;
	for (i = 0; i < nmods && a < ARRAY_LEN(argv) - 1; i++)
		argv[a++] = (char *)mods[i];
	argv[a] = NULL;
	return run_cmd(ctx, NULL, argv);
}

static int iso_efi_image(struct ib_stage_ctx *ctx, const char *efi, const char *img,
			 const char *serial)
{
	struct timespec ts[2] = {
		{ .tv_sec = ctx->cfg->source_date_epoch },
		{ .tv_sec = ctx->cfg->source_date_epoch },
	};
	char blocks[32], dest[] = "::/EFI/BOOT/BOOTX64.EFI";
	char *mkfs[] = { "mkfs.vfat", "-C", "-n", "EFIBOOT", "-i", (char *)serial,
			 "--invariant", (char *)img, blocks, NULL };
	char *mmd[] = { "mmd", "-i", (char *)img, "::/EFI", "::/EFI/BOOT", NULL };
	char *mcopy[] = { "mcopy", "-m", "-i", (char *)img, (char *)efi, dest, NULL };
	char sde[64];
	char *env[] = { sde, NULL };
	/* mtools dates the directories it makes "now" unless told */
	struct ib_run_opts o = { .env = env };
	struct stat st;
	int err;

	if (stat(efi, &st) < 0)
		return -errno;
	/* KiB: the loader plus room for the FAT itself */
	snprintf(blocks, sizeof(blocks), "%lld", (long long)st.st_size / 1024 + 512);
	if (utimensat(AT_FDCWD, efi, ts, 0) < 0)
		return -errno;
	snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", ctx->cfg->source_date_epoch);
	unlink(img);
	err = run_cmd(ctx, &o, mkfs);
	if (!err)
		err = run_cmd(ctx, &o, mmd);
	if (!err)
		err = run_cmd(ctx, &o, mcopy);
	return err;
}

static int iso_date(long long sde, char *out, size_t size)
{
	time_t t = (time_t)sde;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	strftime(out, size, "%Y%m%d%H%M%S00", &tm);
	return 0;
}

int stage_iso_run(struct ib_stage_ctx *ctx)
{
	static const struct ib_tool tools[] = {
		{ "mksquashfs", "squashfs-tools" },
		{ "xorriso", "xorriso" },
		{ "grub-mkimage", "grub-common" },
		{ GRUB_BIOS_DIR "/boot_hybrid.img", "grub-pc-bin" },
		{ GRUB_EFI_DIR "/linux.mod", "grub-efi-amd64-bin" },
		{ "mkfs.vfat", "dosfstools" },
		{ "mmd", "mtools" },
		{ "mcopy", "mtools" },
		{ "gzip", "gzip" },
	};
	const struct ib_config *cfg = ctx->cfg;
	char root[PATH_MAX], tree[PATH_MAX], path[PATH_MAX], sfs[PATH_MAX];
	char kver[256], vmlinuz[PATH_MAX], early[PATH_MAX], efi[PATH_MAX];
	char efiimg[PATH_MAX], iso[PATH_MAX], date[32], sde[64], sdearg[32];
	char guid[33], serial[9], from[PATH_MAX];
	char *env[] = { sde, NULL };
	struct ib_run_opts o = { .env = env };
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	char hex[2 * SHA256_LEN + 1];
	int err;

	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (err < 0)
		return err;
	snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", cfg->source_date_epoch);
	snprintf(sdearg, sizeof(sdearg), "%lld", cfg->source_date_epoch);
	err = iso_date(cfg->source_date_epoch, date, sizeof(date));
	if (err < 0)
		return err;
	/* Serials from the inputs: same inputs, same serials. */
	sha256_init(&h);
	sha256_update_str(&h, ctx->key);
	sha256_final(&h, md);
	sha256_hex(md, hex);
	snprintf(guid, sizeof(guid), "%.32s", hex);
	snprintf(serial, sizeof(serial), "%.8s", hex + 32);

	err = IB_PATH(root, ctx->prev, IB_ROOTFS);
	if (!err)
		err = IB_PATH(tree, ctx->out, "tree");
	if (!err)
		err = packages_kernel_version(root, kver, sizeof(kver));
	if (!err)
		err = IB_PATH(path, tree, "boot/grub");
	if (!err)
		err = fs_mkdir_p(path, 0755);
	if (!err)
		err = IB_PATH(path, tree, "live");
	if (!err)
		err = fs_mkdir_p(path, 0755);
	if (err < 0)
		return err;

	/* kernel */
	snprintf(path, sizeof(path), "boot/vmlinuz-%s", kver);
	err = IB_PATH(vmlinuz, root, path);
	if (!err)
		err = IB_PATH(path, tree, "boot/vmlinuz");
	if (!err)
		err = fs_copy_file(vmlinuz, path, 0644);
	if (err < 0) {
		snprintf(ctx->failed, sizeof(ctx->failed), "no kernel %.900s: %s", vmlinuz,
			 strerror(-err));
		return err;
	}

	/* root filesystem */
	err = IB_PATH(sfs, tree, "live/root.sfs");
	if (!err) {
		char *argv[] = { "mksquashfs", root, sfs, "-noappend", "-no-progress",
				 "-comp", "zstd", "-Xcompression-level", "15", "-b", "1M",
				 "-mkfs-time", sdearg, "-all-time", sdearg,
				 "-wildcards", "-e", "boot/vmlinuz*", "boot/initrd*", NULL };

		/* zstd, not xz: xz takes 6 CPU-minutes here for a 15% smaller
		 * root; the dates are given explicitly (mksquashfs refuses
		 * them together with SOURCE_DATE_EPOCH) */
		err = run_cmd(ctx, NULL, argv);
	}

	/* initramfs */
	if (!err)
		err = IB_PATH(path, tree, "boot/initrd.img");
	if (!err)
		err = iso_initramfs(ctx, root, kver, path);

	/* GRUB: one config, found on the medium by its label */
	if (!err)
		err = IB_PATH(early, ctx->out, "early.cfg");
	if (!err) {
		char text[512];
		int len = snprintf(text, sizeof(text),
				   "search --no-floppy --set=root --label %s\n"
				   "set prefix=($root)/boot/grub\n", cfg->label);

		err = fs_write_file(early, text, (size_t)len, 0644);
	}
	if (!err)
		err = IB_PATH(from, cfg->srcdir, "image-build/grub/grub.cfg");
	if (!err)
		err = IB_PATH(path, tree, "boot/grub/grub.cfg");
	if (!err)
		err = iso_template(from, path, cfg);
	if (!err)
		err = IB_PATH(path, tree, "boot/grub/bios.img");
	if (!err)
		err = iso_grub_mkimage(ctx, "i386-pc-eltorito", GRUB_BIOS_DIR, early, path,
				       iso_grub_bios_modules, ARRAY_LEN(iso_grub_bios_modules));
	if (!err)
		err = IB_PATH(efi, ctx->out, "BOOTX64.EFI");
	if (!err)
		err = iso_grub_mkimage(ctx, "x86_64-efi", GRUB_EFI_DIR, early, efi,
				       iso_grub_efi_modules, ARRAY_LEN(iso_grub_efi_modules));
	if (!err)
		err = IB_PATH(efiimg, ctx->out, "efi.img");
	if (!err)
		err = iso_efi_image(ctx, efi, efiimg, serial);

	/* the hybrid ISO: El Torito BIOS + EFI, MBR and GPT for disks */
	if (!err)
		err = IB_PATH(iso, ctx->out, IB_ISO);
	if (!err) {
		char moddate[64], alldates[64];
		char *argv[] = {
			"xorriso", "-as", "mkisofs", "-o", iso,
			"-V", (char *)cfg->label, "-iso-level", "3", "-r",
			moddate, "--set_all_file_dates", alldates,
			"--gpt_disk_guid", guid,
			"--grub2-mbr", GRUB_BIOS_DIR "/boot_hybrid.img",
			"-partition_offset", "16",
			"-appended_part_as_gpt",
			"-append_partition", "2", "28732ac11ff8d211ba4b00a0c93ec93b", efiimg,
			"-iso_mbr_part_type", "a2a0d0ebe5b9334487c068b6b72699c7",
			"-c", "/boot/boot.cat",
			"-b", "/boot/grub/bios.img", "-no-emul-boot", "-boot-load-size", "4",
			"-boot-info-table", "--grub2-boot-info",
			"-eltorito-alt-boot",
			"-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
			tree, NULL,
		};

		snprintf(moddate, sizeof(moddate), "--modification-date=%s", date);
		snprintf(alldates, sizeof(alldates), "%s", date);
		err = run_cmd(ctx, &o, argv);
	}
	if (!err)
		err = IB_PATH(from, ctx->prev, IB_PACKAGES);
	if (!err)
		err = IB_PATH(path, ctx->out, IB_PACKAGES);
	if (!err)
		err = fs_copy_file(from, path, 0644);
	/* only the ISO and the manifest are kept in the cache */
	if (!err)
		err = fs_rm_rf(tree);
	if (!err) {
		unlink(efi);
		unlink(efiimg);
		unlink(early);
	}
	return err;
}
