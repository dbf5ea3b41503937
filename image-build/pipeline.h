/* SPDX-License-Identifier: MIT */
#ifndef IB_PIPELINE_H
#define IB_PIPELINE_H

#include <signal.h>

#include "ib.h"

/* Runs the stages (cached or not) and writes the outputs.  sigs: the
 * blocked signals that interrupt the build. */
int pipeline_run(const struct ib_config *cfg, sigset_t *sigs);
void pipeline_duration_format(long long ms, char *out, size_t size);

#endif
