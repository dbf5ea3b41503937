/* SPDX-License-Identifier: MIT */
/*
 * The layers, in apply order.  An explicit table rather than constructor
 * registration: apk-tools' __attribute__((constructor)) registration
 * silently drops objects linked from a static archive, and a reader should
 * see every layer in one place.
 */
#include "layer.h"
#include "layers.h"

const struct layer_ops *const jefe_layers[] = {
	&layer_sysctl_ops,	/* 1: kernel parameters and lockdown */
	&layer_modules_ops,	/* 2: kernel modules and boot */
	&layer_firewall_ops,	/* 3: nftables firewall (table inet jefe) */
	&layer_sshd_ops,	/* 4: sshd configuration */
	&layer_audit_ops,	/* 5: kernel audit rules */
	&layer_files_ops,	/* 6: filesystem permissions and integrity */
};

const unsigned int jefe_layers_count = ARRAY_SIZE_LAYERS(jefe_layers);
