/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup's socket server (daemon_ipc.c): one request per connection,
 * checked (ipc.h), authorized (SO_PEERCRED, status_group), rate limited
 * per non-root uid, answered with the report document.
 */
#ifndef JEFE_DAEMON_IPC_H
#define JEFE_DAEMON_IPC_H

#include "daemon.h"

/* The listening socket is readable: accept and serve what is there. */
void daemon_ipc_accept(struct daemon *d);
/* A parked connection is readable. */
void daemon_ipc_client_ready(struct daemon *d, int fd);
/* Drop connections past their deadline; ms to the next one, -1: none. */
int daemon_ipc_clients_expire(struct daemon *d);
/* Close every parked connection. */
void daemon_ipc_fini(struct daemon *d);

#endif
