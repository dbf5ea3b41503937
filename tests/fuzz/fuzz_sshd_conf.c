/* SPDX-License-Identifier: MIT */
/*
 * The sshd_config reader (lines, Match blocks, Includes) and the rendering
 * of the top-level file handed to sshd, on the input as the main config of
 * an empty temporary root: Includes resolve to nothing, loops are bounded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "sshd_conf.h"

/* libFuzzer passes no context: the temporary root lives as long as the process. */
static char root[] = "/tmp/jefe-fuzz-sshd.XXXXXX";

/* libFuzzer leaves through exit(): no temporary root left behind. */
static void fuzz_cleanup(void)
{
	rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int root_fd = -1;
	char *text = fuzz_text(data, size), *top = NULL;
	struct sshd_conf c;

	if (root_fd < 0) {
		if (!mkdtemp(root))
			abort();
		root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			abort();
		atexit(fuzz_cleanup);
	}
	if (sshd_conf_read(&c, root_fd, root, SSHD_CONFIG, text, SSHD_DROPIN,
			   "PasswordAuthentication no\n") == 0)
		sshd_conf_free(&c);
	if (sshd_conf_render_top(root_fd, root, text, SSHD_DROPIN, NULL, &top) == 0)
		free(top);
	free(text);
	return 0;
}
