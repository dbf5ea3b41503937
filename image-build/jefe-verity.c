/* SPDX-License-Identifier: MIT */
/*
 * jefe-verity: open a dm-verity device, show its status or table.
 *
 * The initramfs of an image built with --secure-boot own opens its root
 * squashfs only through dm-verity.  It has no dmsetup or veritysetup
 * (dynamic programs with a dozen libraries), so this static program
 * speaks the device-mapper ioctls itself: create a device, load one
 * read-only verity target, resume it.  The parameters are those that
 * `veritysetup format --no-superblock` used (format 1, SHA-256, 4 KiB
 * blocks, hash tree from the first block of the hash device).
 *
 *   jefe-verity open NAME DATA_DEV HASH_DEV DATA_BLOCKS ROOT_HASH SALT
 *   jefe-verity status NAME      "0 SECTORS verity V" (V valid, C corrupted)
 *   jefe-verity table NAME       the loaded table, as dmsetup table prints it
 *
 * Exit status: 0 done, 1 failed, 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VERITY_CONTROL "/dev/mapper/control"
#define VERITY_BLOCK 4096
#define VERITY_BUF 16384

static void verity_init(struct dm_ioctl *io, size_t size, const char *name)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (__u32)size;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", name);
}

static int verity_ioctl(int fd, unsigned long req, struct dm_ioctl *io)
{
	return ioctl(fd, req, io) < 0 ? -errno : 0;
}

static bool verity_hex_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max || n % 2)
		return false;
	return strspn(s, "0123456789abcdef") == n;
}

static int verity_open(int fd, char **argv)
{
	const char *name = argv[0], *data = argv[1], *hash = argv[2];
	const char *root_hash = argv[4], *salt = argv[5];
	unsigned long long blocks;
	union {
		struct dm_ioctl io;
		char buf[VERITY_BUF];
	} u;
	struct dm_target_spec *spec;
	char *params, *end;
	unsigned minor;
	int err;

	errno = 0;
	blocks = strtoull(argv[3], &end, 10);
	if (errno || *end || blocks == 0) {
		fprintf(stderr, "jefe-verity: DATA_BLOCKS '%s': not a block count\n", argv[3]);
		return -EINVAL;
	}
	if (!verity_hex_ok(root_hash, 64, 64) || !verity_hex_ok(salt, 2, 512)) {
		fprintf(stderr, "jefe-verity: ROOT_HASH must be 64 and SALT 2..512 lower-case hex digits\n");
		return -EINVAL;
	}

	verity_init(&u.io, sizeof(u), name);
	err = verity_ioctl(fd, DM_DEV_CREATE, &u.io);
	if (err) {
		fprintf(stderr, "jefe-verity: create %s: %s\n", name, strerror(-err));
		return err;
	}
	minor = minor(u.io.dev);

	verity_init(&u.io, sizeof(u), name);
	u.io.flags = DM_READONLY_FLAG;
	u.io.target_count = 1;
	spec = (struct dm_target_spec *)(u.buf + sizeof(u.io));
	spec->sector_start = 0;
	spec->length = blocks * (VERITY_BLOCK / 512);
	snprintf(spec->target_type, sizeof(spec->target_type), "verity");
	params = (char *)(spec + 1);
	/* version 1, 4 KiB data and hash blocks, the tree from hash block 0 */
	snprintf(params, sizeof(u) - sizeof(u.io) - sizeof(*spec),
		 "1 %s %s %d %d %llu 0 sha256 %s %s", data, hash, VERITY_BLOCK,
		 VERITY_BLOCK, blocks, root_hash, salt);
	spec->next = 0;
	err = verity_ioctl(fd, DM_TABLE_LOAD, &u.io);
	if (!err) {
		verity_init(&u.io, sizeof(u), name);
		err = verity_ioctl(fd, DM_DEV_SUSPEND, &u.io);	/* no flag: resume */
	}
	if (err) {
		fprintf(stderr, "jefe-verity: load the verity table of %s: %s\n", name,
			strerror(-err));
		verity_init(&u.io, sizeof(u), name);
		verity_ioctl(fd, DM_DEV_REMOVE, &u.io);
		return err;
	}
	/* devtmpfs names device-mapper devices dm-MINOR */
	printf("/dev/dm-%u\n", minor);
	return 0;
}

static int verity_show(int fd, const char *name, bool table)
{
	union {
		struct dm_ioctl io;
		char buf[VERITY_BUF];
	} u;
	struct dm_target_spec *spec;
	size_t off;
	__u32 i;
	int err;

	verity_init(&u.io, sizeof(u), name);
	if (table)
		u.io.flags = DM_STATUS_TABLE_FLAG;
	err = verity_ioctl(fd, DM_TABLE_STATUS, &u.io);
	if (err) {
		fprintf(stderr, "jefe-verity: %s: %s\n", name, strerror(-err));
		return err;
	}
	if (u.io.flags & DM_BUFFER_FULL_FLAG) {
		fprintf(stderr, "jefe-verity: %s: table too large\n", name);
		return -E2BIG;
	}
	off = u.io.data_start;
	for (i = 0; i < u.io.target_count; i++) {
		if (off + sizeof(*spec) > sizeof(u))
			return -EPROTO;
		spec = (struct dm_target_spec *)(u.buf + off);
		u.buf[sizeof(u) - 1] = '\0';
		printf("%llu %llu %s %s\n", (unsigned long long)spec->sector_start,
		       (unsigned long long)spec->length, spec->target_type, (char *)(spec + 1));
		if (!spec->next)
			break;
		off += spec->next;
	}
	return 0;
}

static void verity_usage(FILE *f)
{
	fprintf(f, "Usage: jefe-verity open NAME DATA_DEV HASH_DEV DATA_BLOCKS ROOT_HASH SALT\n"
		   "       jefe-verity status NAME\n"
		   "       jefe-verity table NAME\n");
}

int main(int argc, char **argv)
{
	int fd, err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		verity_usage(stdout);
		return 0;
	}
	if (argc < 3 || (!strcmp(argv[1], "open") ? argc != 8 :
			 (strcmp(argv[1], "status") && strcmp(argv[1], "table")) || argc != 3)) {
		verity_usage(stderr);
		return 64;
	}
	if (strlen(argv[2]) >= DM_NAME_LEN) {
		fprintf(stderr, "jefe-verity: NAME '%s' is too long\n", argv[2]);
		return 64;
	}
	fd = open(VERITY_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "jefe-verity: %s: %s (is dm_mod loaded?)\n", VERITY_CONTROL,
			strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "open"))
		err = verity_open(fd, argv + 2);
	else
		err = verity_show(fd, argv[2], !strcmp(argv[1], "table"));
	close(fd);
	return err ? 1 : 0;
}
