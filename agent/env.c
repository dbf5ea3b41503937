/* SPDX-License-Identifier: MIT */
/*
 * struct jefe_env is the one authority on the root the agent manages:
 * whether it is this running host is decided here, once, and the paths
 * of the agent's own files below it are joined here, once.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc.h"
#include "layer.h"
#include "util.h"

int jefe_env_init(struct jefe_env *env, const char *root, int root_fd, const char *policy_dir)
{
	struct stat r, h;

	memset(env, 0, sizeof(*env));
	env->root = root;
	env->root_fd = root_fd;
	env->policy_dir = policy_dir;
	/*
	 * The same directory as the host's "/" (device and inode), however it
	 * was spelled ("/", "//", a bind mount of /): only then do kernel-wide
	 * state (audit rules), the service manager and running daemons belong
	 * to the root.  A tree under --root never reaches them.
	 */
	if (fstat(root_fd, &r) < 0)
		return -errno;
	if (stat("/", &h) < 0)
		return -errno;
	env->is_host = r.st_dev == h.st_dev && r.st_ino == h.st_ino;
	return 0;
}

int jefe_socket_path(char *buf, size_t size, const char *root)
{
	return root_join(buf, size, root, IPC_SOCKET_PATH);
}
