# jefe-image-build: the ISO pipeline (issue 7).  A build tool, never
# installed: `make install` fills the agent's DESTDIR that goes into the
# image, and the image must not carry its own builder.
noinst_PROGRAMS = jefe-image-build
jefe_image_build_SOURCES = \
	image-build/ib.h \
	image-build/main.c \
	image-build/pipeline.c image-build/pipeline.h \
	image-build/run.c \
	image-build/fs.c \
	image-build/sha256.c image-build/sha256.h \
	image-build/base_debian.c \
	image-build/base_alpine.c \
	image-build/stage_bootstrap.c \
	image-build/stage_packages.c \
	image-build/stage_security.c \
	image-build/stage_overlay.c \
	image-build/stage_iso.c \
	image-build/openrc.c \
	image-build/lock.c \
	image-build/inventory.c \
	image-build/sbom.c
jefe_image_build_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/image-build -I$(top_srcdir)/agent
jefe_image_build_CFLAGS = $(AM_CFLAGS) $(LIBMD_CFLAGS) $(JSONC_CFLAGS)
# libjefe.a for agent/rootfs.c: the stages write into the image root
# through the agent's confined openat2 helpers (fs_root_* in fs.c).
jefe_image_build_LDADD = libjefe.a $(LIBMD_LIBS) $(JSONC_LIBS)

# jefe-verity: static (it runs in the initramfs before any library is
# there); installed, so it is in the image root that stage 5 takes it from
# and an admin can read the root's dm-verity status (docs/secure-boot.md).
sbin_PROGRAMS += jefe-verity
jefe_verity_SOURCES = image-build/jefe-verity.c
# The sanitizer tree (configure --enable-fuzz, ASan) cannot link a static
# program: there it is an ordinary one; it never runs in that tree's tests.
if !FUZZ
jefe_verity_LDFLAGS = -static
endif
dist_man_MANS += docs/man/jefe-verity.8

EXTRA_DIST += \
	image-build/profiles \
	image-build/overlay \
	image-build/initramfs \
	image-build/grub

# The tool's documentation (not installed: the tool is not) and its bench.
EXTRA_DIST += docs/man/jefe-install.8 docs/install.md
EXTRA_DIST += docs/image-build.md docs/man/jefe-image-build.8 bench/iso.sh \
	docs/secure-boot.md bench/secure-boot.sh
# The boot's figures, phase by phase (docs/image-build.md, "What runs at boot").
EXTRA_DIST += bench/boot.sh bench/boot_phases.py
EXTRA_DIST += bench/iso-cache.sh bench/squashfs-read.sh

# jefe-commit: saves the live system's persistent paths (persist.list, the
# one list of them, read by the tool and by the initramfs' restore) to the
# JEFE_DATA partition.  Installed with the agent, so it is in the image
# root, where the initramfs also reads persist.list.
sbin_SCRIPTS = jefe-commit
CLEANFILES += jefe-commit
EXTRA_DIST += image-build/jefe-commit.in
dist_jefedata_DATA += image-build/persist.list
dist_man_MANS += docs/man/jefe-commit.8
jefe-commit: $(top_srcdir)/image-build/jefe-commit.in Makefile
	$(AM_V_GEN)sed -e 's|@datadir[@]|$(datadir)|g' $(top_srcdir)/image-build/jefe-commit.in >$@.tmp && \
	chmod 755 $@.tmp && mv $@.tmp $@
