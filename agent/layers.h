/* SPDX-License-Identifier: MIT */
/* The ops of each layer, for the table in layers.c. */
#ifndef JEFE_LAYERS_H
#define JEFE_LAYERS_H

#include "layer.h"

#define ARRAY_SIZE_LAYERS(a) (sizeof(a) / sizeof((a)[0]))

extern const struct layer_ops layer_sysctl_ops;
extern const struct layer_ops layer_modules_ops;
extern const struct layer_ops layer_firewall_ops;
extern const struct layer_ops layer_sshd_ops;
extern const struct layer_ops layer_audit_ops;
extern const struct layer_ops layer_files_ops;

#endif
