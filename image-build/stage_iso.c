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
 *   .disk/info         what Debian's signed GRUB searches to find the medium
 *   partition 2        FAT image with the UEFI side (docs/secure-boot.md):
 *     --secure-boot microsoft  EFI/BOOT/BOOTX64.EFI Debian's signed shim,
 *                        grubx64.efi Debian's signed GRUB for CDs
 *                        (gcdx64), mmx64.efi shim's MOK manager; they boot
 *                        Debian's signed kernel with /boot/grub/grub.cfg
 *     --secure-boot own  EFI/BOOT/BOOTX64.EFI a unified kernel image
 *                        (systemd's EFI stub + kernel + initramfs + command
 *                        line) signed with the site's key; the squashfs
 *                        gets a dm-verity hash tree (live/root.verity)
 *                        whose root hash is on that signed command line
 *
 * Everything is assembled by xorriso from a GRUB image made with
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
	/* an installed disk (jefe-install): the ESP with each slot's hash,
	 * the LUKS2 data partition and its ext4 */
	"vfat", "nls_iso8859_1", "nls_ascii", "dm_mod", "dm_crypt", "ecb", "xts", "aes_generic",
	"algif_skcipher", "ext4", "crc32c_generic",
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

/* own: the root is opened through dm-verity only. */
static const char *const iso_verity_modules[] = { "dm_mod", "dm_verity", "efivarfs" };

#define GRUB_BIOS_DIR "/usr/lib/grub/i386-pc"

/* --secure-boot microsoft: Debian's signed UEFI binaries, from the host's
 * shim-signed and grub-efi-amd64-signed (their hashes are in the key). */
#define ISO_SHIM "/usr/lib/shim/shimx64.efi.signed"
#define ISO_MOKMANAGER "/usr/lib/shim/mmx64.efi.signed"
#define ISO_GRUB_SIGNED "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"
/* --secure-boot own */
#define ISO_EFI_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#define ISO_FAKETIME "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
#define ISO_VERITY_TOOL "usr/sbin/jefe-verity"	/* in the image root */

/* Every boot path's kernel arguments after jefe.label= (and the verity
 * arguments): grub.cfg's @CMDLINE@ and the UKI's .cmdline. */
#define ISO_KERNEL_ARGS "lockdown=integrity slab_nomerge init_on_alloc=1 " \
	"page_alloc.shuffle=1 console=tty0 console=ttyS0,115200n8"

int stage_iso_cmdline(const struct ib_config *cfg, const char *verity, char *out,
		      size_t size)
{
	if (snprintf(out, size, "jefe.label=%s %s%s" ISO_KERNEL_ARGS, cfg->label, verity,
		     *verity ? " " : "") >= (int)size)
		return -E2BIG;
	return 0;
}

struct iso_efi_file {
	const char *src;
	const char *name;	/* below EFI/BOOT/ */
};

static int iso_key_file(const char *path, const char *package, struct sha256 *h)
{
	int err = fs_file_hash(path, h);

	if (err < 0)
		fprintf(stderr, "jefe-image-build: %s: %s%s%s\n", path, strerror(-err),
			package ? "; install " : "", package ? package : "");
	return err;
}

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
	if (err < 0)
		return err;
	/*
	 * The UEFI side: the host's signed binaries go into the image, and in
	 * own mode the certificate decides what the firmware must trust.  The
	 * private key never enters the key (nor the cache): a new key for the
	 * same certificate signs the same bytes.
	 */
	if (cfg->secure_boot == IB_SB_MICROSOFT) {
		sha256_update_str(h, "secure-boot microsoft");
		err = iso_key_file(ISO_SHIM, "shim-signed", h);
		if (!err)
			err = iso_key_file(ISO_MOKMANAGER, "shim-signed", h);
		if (!err)
			err = iso_key_file(ISO_GRUB_SIGNED, "grub-efi-amd64-signed", h);
	} else {
		sha256_update_str(h, "secure-boot own");
		err = iso_key_file(cfg->sign_cert, NULL, h);
		if (!err)
			err = iso_key_file(ISO_EFI_STUB, "systemd-boot-efi", h);
	}
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

/* Add a module and what it depends on; a missing one is an error when required. */
static int iso_initramfs_module(struct ib_stage_ctx *ctx, const struct iso_moddep *md,
				const char *kver, const char *mod, bool required,
				bool *seen, size_t *order, size_t *n)
{
	long idx = iso_moddep_find(md, mod);

	if (idx >= 0)
		return iso_closure_add(md, (size_t)idx, seen, order, n, 0);
	if (required && !iso_builtin(md, mod)) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "the kernel %s has no module '%s' (needed to mount the root)",
			 kver, mod);
		return -IB_EINPUT;
	}
	return 0;
}

static int iso_static_check(struct ib_stage_ctx *ctx, const char *path, const char *fix)
{
	if (iso_elf_static_check(path) == 0)
		return 0;
	snprintf(ctx->failed, sizeof(ctx->failed), "%.800s is not a static program (%s)",
		 path, fix);
	return -IB_EINPUT;
}

/* verity: the initramfs opens the root through dm-verity only (own mode). */
static int iso_initramfs(struct ib_stage_ctx *ctx, const char *root,
			 const char *kver, const char *out, bool verity)
{
	static const char *const dirs[] = {
		"bin", "dev", "etc", "lib", "lib/modules", "mnt", "mnt/medium",
		"mnt/ro", "mnt/rw", "newroot", "proc", "sys", "run", "tmp",
	};
	char kdir[PATH_MAX], path[PATH_MAX], cpio_path[PATH_MAX], name[300];
	/*
	 * zstd -19, not gzip -9: 22% smaller (3.2 MB instead of 4.1), and
	 * GRUB reads the initramfs from a CD through BIOS calls, the slowest
	 * read of the boot under emulation; the kernel's zstd also unpacks
	 * it faster than gzip.  xz would be 9% smaller again but unpacks
	 * several times slower (docs/BENCHMARKS.md, "ISO boot, phase by phase").
	 */
	char *compress[] = { "zstd", "-q", "-19", "-c", NULL };
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
		size_t r;
		bool required = false;

		for (r = 0; r < ARRAY_LEN(iso_required_modules); r++)
			required |= !strcmp(iso_required_modules[r], iso_initramfs_modules[i]);
		err = iso_initramfs_module(ctx, &md, kver, iso_initramfs_modules[i], required,
					   seen, order, &n);
	}
	for (i = 0; verity && !err && i < ARRAY_LEN(iso_verity_modules); i++)
		err = iso_initramfs_module(ctx, &md, kver, iso_verity_modules[i], true,
					   seen, order, &n);
	if (err < 0)
		goto out;

	err = IB_PATH(path, root, "bin/busybox");
	if (!err)
		err = iso_static_check(ctx, path, "add busybox-static to the profile");
	if (!err && verity)
		err = IB_PATH(path, root, ISO_VERITY_TOOL);
	if (!err && verity)
		err = iso_static_check(ctx, path, "the agent's make install puts a static jefe-verity there");
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
	/* The mark that init must refuse any root not opened through dm-verity. */
	if (!err && verity)
		err = iso_cpio_entry(&c, "etc/jefe-verity-required", S_IFREG | 0644, 0,
				     "yes\n", 4);
	if (!err && verity)
		err = IB_PATH(path, root, ISO_VERITY_TOOL);
	if (!err && verity)
		err = iso_cpio_file(&c, "bin/jefe-verity", path, 0755);
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
		err = run_cmd(ctx, &o, compress);
	unlink(cpio_path);
out:
	iso_moddep_free(&md);
	free(seen);
	free(order);
	free(load);
	return err;
}

/* --- GRUB --- */

static int iso_template(const char *src, const char *dst, const struct ib_config *cfg,
			const char *cmdline)
{
	char *in, *out, *p, *o;
	size_t len;
	int err;

	err = fs_read_file(src, &in, &len);
	if (err < 0)
		return err;
	out = malloc(len * 2 + 1024 + 8 * strlen(cmdline));
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
		} else if (!strncmp(p, "@CMDLINE@", 9)) {
			o += sprintf(o, "%s", cmdline);
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

/* The FAT image of the El Torito EFI entry and GPT partition 2. */
static int iso_efi_image(struct ib_stage_ctx *ctx, const struct iso_efi_file *files,
			 size_t nfiles, const char *img, const char *serial)
{
	struct timespec ts[2] = {
		{ .tv_sec = ctx->cfg->source_date_epoch },
		{ .tv_sec = ctx->cfg->source_date_epoch },
	};
	char blocks[32], dest[PATH_MAX];
	char *mkfs[] = { "mkfs.vfat", "-C", "-n", "EFIBOOT", "-i", (char *)serial,
			 "--invariant", (char *)img, blocks, NULL };
	char *mmd[] = { "mmd", "-i", (char *)img, "::/EFI", "::/EFI/BOOT", NULL };
	char *mcopy[] = { "mcopy", "-m", "-i", (char *)img, NULL, dest, NULL };
	char sde[64];
	char *env[] = { sde, NULL };
	/* mtools dates the directories it makes "now" unless told */
	struct ib_run_opts o = { .env = env };
	long long kib = 512;	/* room for the FAT itself */
	struct stat st;
	size_t i;
	int err;

	for (i = 0; i < nfiles; i++) {
		if (stat(files[i].src, &st) < 0)
			return -errno;
		kib += (long long)st.st_size / 1024 + 4;
	}
	snprintf(blocks, sizeof(blocks), "%lld", kib);
	snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", ctx->cfg->source_date_epoch);
	unlink(img);
	err = run_cmd(ctx, &o, mkfs);
	if (!err)
		err = run_cmd(ctx, &o, mmd);
	for (i = 0; !err && i < nfiles; i++) {
		char copy[PATH_MAX];

		/* mcopy -m keeps the file's time: a copy of our own, dated */
		if (snprintf(copy, sizeof(copy), "%s.%s", img, files[i].name) >= (int)sizeof(copy))
			return -ENAMETOOLONG;
		err = fs_copy_file(files[i].src, copy, 0644);
		if (!err && utimensat(AT_FDCWD, copy, ts, 0) < 0)
			err = -errno;
		snprintf(dest, sizeof(dest), "::/EFI/BOOT/%s", files[i].name);
		mcopy[4] = copy;
		if (!err)
			err = run_cmd(ctx, &o, mcopy);
		unlink(copy);
	}
	return err;
}

/* --- own: dm-verity and the signed unified kernel image --- */

/*
 * The hash tree of the squashfs, without a superblock (every parameter
 * goes on the signed command line instead).  The salt is the squashfs'
 * own SHA-256: fixed for the same content, different for every image.
 * args receives the kernel arguments the initramfs opens the root with.
 */
static int iso_verity(struct ib_stage_ctx *ctx, const char *sfs, const char *hashtree,
		      char *args, size_t size)
{
	char salt[2 * SHA256_LEN + 1], saltarg[2 * SHA256_LEN + 16], rhpath[PATH_MAX];
	char rharg[PATH_MAX + 32], *rh = NULL;
	char *argv[] = { "veritysetup", "format", "--no-superblock", "--hash=sha256",
			 "--data-block-size=4096", "--hash-block-size=4096", saltarg,
			 rharg, (char *)sfs, (char *)hashtree, NULL };
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	struct stat st;
	int err;

	if (stat(sfs, &st) < 0)
		return -errno;
	/* mksquashfs pads to 4 KiB: every byte is in a verity data block */
	if (st.st_size % 4096 || st.st_size == 0) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "%.900s: size %lld is not a multiple of 4096", sfs, (long long)st.st_size);
		return -IB_EINPUT;
	}
	sha256_init(&h);
	err = fs_file_hash(sfs, &h);
	if (err < 0)
		return err;
	sha256_final(&h, md);
	sha256_hex(md, salt);
	snprintf(saltarg, sizeof(saltarg), "--salt=%s", salt);
	if (snprintf(rhpath, sizeof(rhpath), "%s.roothash", hashtree) >= (int)sizeof(rhpath))
		return -ENAMETOOLONG;
	snprintf(rharg, sizeof(rharg), "--root-hash-file=%s", rhpath);
	unlink(hashtree);
	unlink(rhpath);
	err = run_cmd(ctx, NULL, argv);
	if (!err)
		err = fs_read_file(rhpath, &rh, NULL);
	unlink(rhpath);
	if (err < 0)
		return err;
	rh[strcspn(rh, " \n")] = '\0';
	if (strlen(rh) != 64 || strspn(rh, "0123456789abcdef") != 64) {
		snprintf(ctx->failed, sizeof(ctx->failed), "veritysetup: no root hash in %.900s",
			 rhpath);
		free(rh);
		return -IB_ECOMMAND;
	}
	snprintf(args, size, "jefe.verity.roothash=%s jefe.verity.salt=%s jefe.verity.blocks=%lld",
		 rh, salt, (long long)st.st_size / 4096);
	free(rh);
	return 0;
}

static uint32_t iso_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The PE32+ header of an EFI binary: where its image ends in memory
 * (ImageBase + SizeOfImage), and the offsets of the header's timestamp
 * and checksum.
 */
struct iso_pe {
	unsigned long long end;
	long timestamp_off, checksum_off;
};

static int iso_pe_read(const char *path, struct iso_pe *pe)
{
	unsigned char hdr[1024];
	unsigned long long base;
	uint32_t lfanew;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n < 0x40 || memcmp(hdr, "MZ", 2))
		return -ENOEXEC;
	lfanew = iso_le32(hdr + 0x3c);
	if ((ssize_t)lfanew + 24 + 64 > n || memcmp(hdr + lfanew, "PE\0\0", 4) ||
	    hdr[lfanew + 24] != 0x0b || hdr[lfanew + 25] != 0x02)	/* PE32+ */
		return -ENOEXEC;
	memcpy(&base, hdr + lfanew + 24 + 24, 8);
	pe->end = base + iso_le32(hdr + lfanew + 24 + 56);
	pe->timestamp_off = lfanew + 8;
	pe->checksum_off = lfanew + 24 + 64;
	return 0;
}

/* objcopy stamps the time of the build into the PE header: the SOURCE_DATE_EPOCH
 * instead, and no checksum (the firmware ignores it; Authenticode skips it). */
static int iso_pe_fix_header(const char *path, const struct iso_pe *pe, long long sde)
{
	unsigned char ts[4] = { sde & 0xff, sde >> 8 & 0xff, sde >> 16 & 0xff, sde >> 24 & 0xff };
	static const unsigned char zero[4];
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, ts, 4, pe->timestamp_off) != 4 ||
	    pwrite(fd, zero, 4, pe->checksum_off) != 4)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

#define ISO_ALIGN(x) (((x) + 0xfffULL) & ~0xfffULL)

/*
 * The unified kernel image, as systemd-stub(7) describes it: the stub with
 * .osrel, .cmdline, .linux and .initrd sections added by objcopy, each at
 * a page-aligned address after the stub's own image; then signed with
 * sbsign and checked against the certificate with sbverify.  The signing
 * time is SOURCE_DATE_EPOCH (libfaketime): RSA PKCS#1 v1.5 is
 * deterministic, so the same inputs give the same signed bytes.
 */
static int iso_uki(struct ib_stage_ctx *ctx, const char *vmlinuz, const char *initrd,
		   const char *cmdline, const char *out)
{
	const struct ib_config *cfg = ctx->cfg;
	char osrel[PATH_MAX], cmdfile[PATH_MAX], unsigned_path[PATH_MAX];
	char args[4][2][PATH_MAX + 32];
	char faketime[64], preload[PATH_MAX];
	char *fenv[] = { preload, faketime, "TZ=UTC", NULL };
	struct ib_run_opts fo = { .env = fenv };
	const char *names[4] = { ".osrel", ".cmdline", ".linux", ".initrd" };
	const char *files[4];
	char *objcopy[32];
	char text[512];
	struct iso_pe pe;
	struct stat st;
	unsigned long long vma;
	time_t t = (time_t)cfg->source_date_epoch;
	struct tm tm;
	size_t i, a = 0;
	int err, len;

	err = iso_pe_read(ISO_EFI_STUB, &pe);
	if (err < 0) {
		snprintf(ctx->failed, sizeof(ctx->failed), "%s: not a PE32+ EFI stub",
			 ISO_EFI_STUB);
		return -IB_EINPUT;
	}
	err = IB_PATH(osrel, ctx->out, "uki.osrel");
	if (!err)
		err = IB_PATH(cmdfile, ctx->out, "uki.cmdline");
	if (!err && snprintf(unsigned_path, sizeof(unsigned_path), "%s.unsigned", out) >=
	    (int)sizeof(unsigned_path))
		err = -ENAMETOOLONG;
	if (err < 0)
		return err;
	len = snprintf(text, sizeof(text),
		       "NAME=\"JefeLinux\"\nID=jefelinux\nVERSION_ID=\"%s\"\n"
		       "PRETTY_NAME=\"JefeLinux %s\"\n", cfg->version, cfg->version);
	err = fs_write_file(osrel, text, (size_t)len, 0644);
	if (!err)
		err = fs_write_file(cmdfile, cmdline, strlen(cmdline), 0644);
	if (err < 0)
		return err;
	files[0] = osrel;
	files[1] = cmdfile;
	files[2] = vmlinuz;
	files[3] = initrd;

	objcopy[a++] = "objcopy";
	vma = ISO_ALIGN(pe.end);
	for (i = 0; i < 4; i++) {
		if (stat(files[i], &st) < 0)
			return -errno;
		snprintf(args[i][0], sizeof(args[i][0]), "%s=%s", names[i], files[i]);
		snprintf(args[i][1], sizeof(args[i][1]), "%s=0x%llx", names[i], vma);
		objcopy[a++] = "--add-section";
		objcopy[a++] = args[i][0];
		objcopy[a++] = "--change-section-vma";
		objcopy[a++] = args[i][1];
		vma = ISO_ALIGN(vma + (unsigned long long)st.st_size);
	}
	objcopy[a++] = ISO_EFI_STUB;
	objcopy[a++] = unsigned_path;
	objcopy[a] = NULL;
	err = run_cmd(ctx, NULL, objcopy);
	if (!err)
		err = iso_pe_read(unsigned_path, &pe);
	if (!err)
		err = iso_pe_fix_header(unsigned_path, &pe, cfg->source_date_epoch);
	unlink(osrel);
	unlink(cmdfile);
	if (err < 0)
		return err;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", ISO_FAKETIME);
	/* an absolute FAKETIME is a frozen clock */
	strftime(faketime, sizeof(faketime), "FAKETIME=%Y-%m-%d %H:%M:%S", &tm);
	{
		char *sign[] = { "sbsign", "--key", (char *)cfg->sign_key, "--cert",
				 (char *)cfg->sign_cert, "--output", (char *)out,
				 unsigned_path, NULL };
		char *verify[] = { "sbverify", "--cert", (char *)cfg->sign_cert, (char *)out,
				   NULL };

		unlink(out);
		err = run_cmd(ctx, &fo, sign);
		if (err == -IB_ECOMMAND)
			snprintf(ctx->failed, sizeof(ctx->failed),
				 "sbsign could not sign with --sign-key %.400s and --sign-cert "
				 "%.400s (a PEM key without a passphrase is needed)",
				 cfg->sign_key, cfg->sign_cert);
		if (!err) {
			err = run_cmd(ctx, NULL, verify);
			if (err == -IB_ECOMMAND)
				snprintf(ctx->failed, sizeof(ctx->failed),
					 "the signed image does not verify with --sign-cert "
					 "%.400s: is --sign-key %.400s its key?",
					 cfg->sign_cert, cfg->sign_key);
		}
	}
	unlink(unsigned_path);
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
		{ "mkfs.vfat", "dosfstools" },
		{ "mmd", "mtools" },
		{ "mcopy", "mtools" },
		{ "zstd", "zstd" },
	};
	static const struct ib_tool tools_microsoft[] = {
		{ ISO_SHIM, "shim-signed" },
		{ ISO_MOKMANAGER, "shim-signed" },
		{ ISO_GRUB_SIGNED, "grub-efi-amd64-signed" },
	};
	static const struct ib_tool tools_own[] = {
		{ ISO_EFI_STUB, "systemd-boot-efi" },
		{ "objcopy", "binutils" },
		{ "sbsign", "sbsigntool" },
		{ "sbverify", "sbsigntool" },
		{ ISO_FAKETIME, "libfaketime" },
		{ "veritysetup", "cryptsetup-bin" },
	};
	const struct ib_config *cfg = ctx->cfg;
	bool own = cfg->secure_boot == IB_SB_OWN;
	char root[PATH_MAX], tree[PATH_MAX], path[PATH_MAX], sfs[PATH_MAX];
	char kver[256], vmlinuz[PATH_MAX], early[PATH_MAX], efi[PATH_MAX];
	char efiimg[PATH_MAX], iso[PATH_MAX], date[32], sde[64], sdearg[32];
	char guid[33], serial[9], from[PATH_MAX], verity[512] = "", cmdline[1024];
	char *env[] = { sde, NULL };
	struct ib_run_opts o = { .env = env };
	struct iso_efi_file efi_files[3];
	size_t n_efi = 0;
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	char hex[2 * SHA256_LEN + 1];
	int err;

	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (!err && own)
		err = run_tools_check(tools_own, ARRAY_LEN(tools_own));
	else if (!err)
		err = run_tools_check(tools_microsoft, ARRAY_LEN(tools_microsoft));
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
		err = ctx->root_fd = fs_root_open(root);
	if (err >= 0)
		err = packages_kernel_version(ctx->root_fd, kver, sizeof(kver));
	if (!err)
		err = IB_PATH(path, tree, "boot/grub");
	if (!err)
		err = fs_mkdir_p(path, 0755);
	if (!err)
		err = IB_PATH(path, tree, "live");
	if (!err)
		err = fs_mkdir_p(path, 0755);
	if (!err)
		err = IB_PATH(path, tree, ".disk");
	if (!err)
		err = fs_mkdir_p(path, 0755);
	if (err < 0)
		return err;

	/* kernel */
	snprintf(vmlinuz, sizeof(vmlinuz), "boot/vmlinuz-%s", kver);
	err = IB_PATH(path, tree, "boot/vmlinuz");
	if (!err) {
		/* read through the root fd: an image symlink cannot put a
		 * host file on the ISO */
		char *data;
		size_t len;

		err = fs_root_read(ctx->root_fd, vmlinuz, &data, &len);
		if (!err) {
			err = fs_write_file(path, data, len, 0644);
			free(data);
		}
	}
	if (err < 0) {
		snprintf(ctx->failed, sizeof(ctx->failed), "no kernel %.900s: %s", vmlinuz,
			 strerror(-err));
		return err;
	}

	/* root filesystem */
	err = IB_PATH(sfs, tree, "live/root.sfs");
	if (!err) {
		char *argv[] = { "mksquashfs", root, sfs, "-noappend", "-no-progress",
				 "-comp", "zstd", "-Xcompression-level", "15", "-b", "128K",
				 "-mkfs-time", sdearg, "-all-time", sdearg,
				 "-wildcards", "-e", "boot/vmlinuz*", "boot/initrd*", NULL };

		/* zstd, not xz: xz takes 6 CPU-minutes here for a 15% smaller
		 * root.  128 KiB blocks, not 1 MiB: a read of a few KiB (a
		 * script, a library's first pages, a small file packed with
		 * others in a fragment block) unpacks the whole block holding
		 * it, and the boot reads 245 files; with 1 MiB blocks that was
		 * a quarter more unpacking (docs/BENCHMARKS.md, "ISO boot"),
		 * for a root 1.3% smaller.  The dates are given explicitly
		 * (mksquashfs refuses them together with SOURCE_DATE_EPOCH). */
		err = run_cmd(ctx, NULL, argv);
	}
	if (!err && own)
		err = IB_PATH(path, tree, "live/root.verity");
	if (!err && own)
		err = iso_verity(ctx, sfs, path, verity, sizeof(verity));
	/* one command line for GRUB's entries and the UKI */
	if (!err)
		err = stage_iso_cmdline(cfg, verity, cmdline, sizeof(cmdline));

	/* initramfs */
	if (!err)
		err = IB_PATH(path, tree, "boot/initrd.img");
	if (!err)
		err = iso_initramfs(ctx, root, kver, path, own);

	/* Debian's signed GRUB for CDs finds the medium by this file. */
	if (!err)
		err = IB_PATH(path, tree, ".disk/info");
	if (!err) {
		char text[256];
		int len = snprintf(text, sizeof(text), "JefeLinux %s %s\n", cfg->version,
				   cfg->label);

		err = fs_write_file(path, text, (size_t)len, 0644);
	}

	/* GRUB: one config (BIOS, and UEFI in microsoft mode), the BIOS core
	 * finds the medium by its label */
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
		err = iso_template(from, path, cfg, cmdline);
	if (!err)
		err = IB_PATH(path, tree, "boot/grub/bios.img");
	if (!err)
		err = iso_grub_mkimage(ctx, "i386-pc-eltorito", GRUB_BIOS_DIR, early, path,
				       iso_grub_bios_modules, ARRAY_LEN(iso_grub_bios_modules));

	/* the UEFI side */
	if (!err)
		err = IB_PATH(efi, ctx->out, "BOOTX64.EFI");
	if (!err && own) {
		char initrd[PATH_MAX];

		err = IB_PATH(initrd, tree, "boot/initrd.img");
		if (!err)
			err = IB_PATH(path, tree, "boot/vmlinuz");
		if (!err)
			err = iso_uki(ctx, path, initrd, cmdline, efi);
		efi_files[n_efi++] = (struct iso_efi_file){ efi, "BOOTX64.EFI" };
	} else if (!err) {
		/* shim loads grubx64.efi (and mmx64.efi) from its own directory */
		efi_files[n_efi++] = (struct iso_efi_file){ ISO_SHIM, "BOOTX64.EFI" };
		efi_files[n_efi++] = (struct iso_efi_file){ ISO_GRUB_SIGNED, "grubx64.efi" };
		efi_files[n_efi++] = (struct iso_efi_file){ ISO_MOKMANAGER, "mmx64.efi" };
	}
	if (!err)
		err = IB_PATH(efiimg, ctx->out, "efi.img");
	if (!err)
		err = iso_efi_image(ctx, efi_files, n_efi, efiimg, serial);

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
