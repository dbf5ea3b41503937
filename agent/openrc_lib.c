/* SPDX-License-Identifier: MIT */
/*
 * librc loaded on demand (openrc_lib.h says why).  dlopen() resolves the
 * name as DT_NEEDED would (the loader's search path and cache), with every
 * symbol bound at once (RTLD_NOW): a missing function is an error here,
 * not a crash later.  RTLD_NODELETE: librc is never unmapped under a
 * caller, and a second open is only a reference count.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "openrc_lib.h"

static void *openrc_lib_sym(struct openrc_lib *lib, const char *name, char *why, size_t why_len)
{
	void *sym = dlsym(lib->handle, name);

	if (!sym)
		snprintf(why, why_len, "%s: no %s", LIBRC_SONAME, name);
	return sym;
}

int openrc_lib_open(struct openrc_lib *lib, char *why, size_t why_len)
{
	const char *err;

	memset(lib, 0, sizeof(*lib));
	lib->handle = dlopen(LIBRC_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!lib->handle) {
		err = dlerror();
		snprintf(why, why_len, "%s", err ? err : "cannot load " LIBRC_SONAME);
		return -ENOENT;
	}
	/* POSIX: a function's address comes back from dlsym() as void *. */
	lib->service_state = (RC_SERVICE (*)(const char *))
		openrc_lib_sym(lib, "rc_service_state", why, why_len);
	lib->service_exists = (bool (*)(const char *))
		openrc_lib_sym(lib, "rc_service_exists", why, why_len);
	lib->service_in_runlevel = (bool (*)(const char *, const char *))
		openrc_lib_sym(lib, "rc_service_in_runlevel", why, why_len);
	lib->service_resolve = (char *(*)(const char *))
		openrc_lib_sym(lib, "rc_service_resolve", why, why_len);
	if (!lib->service_state || !lib->service_exists || !lib->service_in_runlevel ||
	    !lib->service_resolve) {
		openrc_lib_close(lib);
		return -ENOENT;
	}
	return 0;
}

void openrc_lib_close(struct openrc_lib *lib)
{
	if (lib->handle)
		dlclose(lib->handle);
	memset(lib, 0, sizeof(*lib));
}
