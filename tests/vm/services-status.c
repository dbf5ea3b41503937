/* SPDX-License-Identifier: MIT */
/*
 * Prints services_status() (agent/services.c, librc) one line per service:
 * "ITEM STATE ACTUAL|NOTE".  Run inside the OpenRC VM by
 * tests/vm/guest/openrc-boot.sh, where librc reads a really booted OpenRC.
 */
#include <stdio.h>

#include "finding.h"
#include "services.h"

int main(void)
{
	struct findings fs = { 0 };
	int err = services_status(&fs);

	if (err) {
		fprintf(stderr, "services_status: %d\n", err);
		return 1;
	}
	for (size_t i = 0; i < fs.n; i++)
		printf("%s %s %s|%s\n", fs.v[i].item, finding_state_name(fs.v[i].state),
		       fs.v[i].actual ? fs.v[i].actual : "", fs.v[i].note ? fs.v[i].note : "");
	findings_free(&fs);
	return 0;
}
