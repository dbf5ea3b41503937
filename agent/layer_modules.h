/* SPDX-License-Identifier: MIT */
/* Layer 2, kernel modules and boot: the pieces the unit tests reach. */
#ifndef JEFE_LAYER_MODULES_H
#define JEFE_LAYER_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define MODULES_BLACKLIST_FILE	"/etc/modprobe.d/jefe-blacklist.conf"

/*
 * Validate a module name and write it the way the kernel lists it in
 * /proc/modules ('-' becomes '_', as modprobe does).  -EINVAL for a
 * name with characters no module name has.
 */
int modules_name_normalize(const char *name, char *out, size_t size);

/* The reason a module must never be blocked, or NULL. */
const char *modules_name_protected(const char *normalized);

/* The managed modprobe.d file for these (normalized) modules; *out is malloc'ed. */
int modules_blacklist_render(const struct strv *mods, char **out);

/* Names of the loaded modules, from the text of /proc/modules. */
int modules_loaded_parse(const char *text, struct strv *out);

/*
 * Names of the modules built into the kernel, from the text of
 * /lib/modules/RELEASE/modules.builtin ("kernel/fs/udf/udf.ko" -> "udf"),
 * normalized as modules_name_normalize() does.
 */
int modules_builtin_parse(const char *text, struct strv *out);

/* Split a kernel command line into words as the kernel does (double quotes group). */
int modules_cmdline_split(const char *cmdline, struct strv *words);

/*
 * Is a required parameter satisfied by the words of a command line?
 * "flag" must be present, "name=" present with any value, "name=value"
 * present with that value; the last occurrence of a name wins, as in the
 * kernel, and '-' and '_' are the same in names.  *word is the deciding
 * word or NULL when the name is absent.
 */
bool modules_cmdline_satisfies(const struct strv *words, const char *required,
			       const char **word);

/* UEFI Secure Boot as the firmware reported it at boot. */
enum modules_secure_boot {
	MODULES_SB_DISABLED,
	MODULES_SB_ENABLED,
	MODULES_SB_NO_UEFI,	/* not started by UEFI firmware: no Secure Boot */
};

/*
 * Read the SecureBoot variable from efivarfs below root: 0 and *state, or
 * -ENOTCONN (UEFI, but efivarfs is not mounted), -EINVAL (not the
 * variable's 5 bytes) or another -errno.
 */
int modules_secure_boot_read(int root_fd, enum modules_secure_boot *state);

#endif
