/* SPDX-License-Identifier: MIT */
/*
 * librc (OpenRC), loaded by the code that asks OpenRC something: the
 * services view of `jefe status` and the sshd layer's reload.  Linked
 * in, librc and its libeinfo were opened, mapped and relocated by every
 * `jefe` run, though most runs never ask OpenRC anything (on this VM two
 * libraries cost a `jefe --direct status --layer sysctl` ten page faults
 * and eighteen system calls, docs/BENCHMARKS.md).
 */
#ifndef JEFE_OPENRC_LIB_H
#define JEFE_OPENRC_LIB_H

#include <rc.h>
#include <stdbool.h>
#include <stddef.h>

/* The shared object's name; a package may give another (CPPFLAGS). */
#ifndef LIBRC_SONAME
#define LIBRC_SONAME "librc.so.1"
#endif

/* The librc functions the agent calls, as rc.h declares them. */
struct openrc_lib {
	void *handle;
	RC_SERVICE (*service_state)(const char *service);
	bool (*service_exists)(const char *service);
	bool (*service_in_runlevel)(const char *service, const char *runlevel);
	char *(*service_resolve)(const char *service);
};

/*
 * Loads librc and looks its functions up.  0, or -ENOENT with the
 * loader's reason in why (the library or a function is missing).
 */
int openrc_lib_open(struct openrc_lib *lib, char *why, size_t why_len);

/* Gives the handle back (the library stays mapped: RTLD_NODELETE). */
void openrc_lib_close(struct openrc_lib *lib);

#endif
