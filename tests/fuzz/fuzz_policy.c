/* SPDX-License-Identifier: MIT */
/*
 * The policy loader and every layer's validation of it (layer_policy_load,
 * what `jefe policy check` runs), on the input as one policy file.  The
 * sshd layer's `ssh -Q` is the seam in jefe_env: a fixed list, no program
 * per input.  The root is an empty temporary directory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "layer.h"
#include "policy.h"

/* What OpenSSH 9.2 lists, enough for the shipped policy's algorithms. */
static int fuzz_ssh_query(const char *query, char **out)
{
	static const char *const lists[][2] = {
		{ "cipher", "aes128-ctr\naes192-ctr\naes256-ctr\naes128-gcm@openssh.com\n"
			    "aes256-gcm@openssh.com\nchacha20-poly1305@openssh.com\n" },
		{ "mac", "hmac-sha2-256\nhmac-sha2-512\nhmac-sha2-256-etm@openssh.com\n"
			 "hmac-sha2-512-etm@openssh.com\numac-128-etm@openssh.com\n" },
		{ "kex", "curve25519-sha256\ncurve25519-sha256@libssh.org\n"
			 "sntrup761x25519-sha512@openssh.com\ndiffie-hellman-group16-sha512\n"
			 "diffie-hellman-group18-sha512\ndiffie-hellman-group-exchange-sha256\n" },
		{ "key", "ssh-ed25519\necdsa-sha2-nistp256\nrsa-sha2-512\nrsa-sha2-256\n" },
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (strncmp(query, lists[i][0], strlen(lists[i][0])) == 0) {
			*out = strdup(lists[i][1]);
			return *out ? 0 : -12;
		}
	}
	*out = strdup("");
	return *out ? 0 : -12;
}

/* libFuzzer passes no context: the temporary root lives as long as the process. */
static char root[] = "/tmp/jefe-fuzz-policy.XXXXXX";
static char path[sizeof(root) + 16];

/* libFuzzer leaves through exit(): no temporary root left behind. */
static void fuzz_cleanup(void)
{
	unlink(path);
	rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int root_fd = -1;
	struct jefe_env env = { .root = root, .ssh_query = fuzz_ssh_query };
	struct policy_errors errs = { 0 };
	struct policy *policy = NULL;
	struct layer_set set;
	char *files[1] = { path };
	FILE *fp;

	if (root_fd < 0) {
		if (!mkdtemp(root))
			abort();
		root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			abort();
		snprintf(path, sizeof(path), "%s/fuzz.conf", root);
		atexit(fuzz_cleanup);
	}
	env.root_fd = root_fd;
	env.policy_dir = "/";
	fp = fopen(path, "we");
	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	if (layer_policy_load(&policy, &set, &env, NULL, files, 1, &errs) == 0) {
		FILE *null = fopen("/dev/null", "we");

		if (null) {
			layer_policy_show(policy, null);
			fclose(null);
		}
		layer_set_free(&set);
		policy_free(policy);
	}
	policy_errors_free(&errs);
	return 0;
}
