/* SPDX-License-Identifier: MIT */
/*
 * The socket between `jefe` and `jefe-setup`.  Modeled on chrony's
 * candm: a fixed-size request checked for length, magic and version before
 * anything else is looked at, and a reply header followed by a JSON
 * payload (the report document of report.h).
 *
 * The socket is SOCK_SEQPACKET: one request is one message, so the daemon
 * never waits for the rest of a request.  The reply is a header message
 * followed by payload messages of at most IPC_CHUNK bytes.
 */
#ifndef JEFE_IPC_H
#define JEFE_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define IPC_SOCKET_PATH	JEFE_RUN_DIR "/jefe.sock"	/* configure --runstatedir */
#define IPC_MAGIC	0x4a454645u	/* "JEFE" */
#define IPC_VERSION	2	/* 2: the layer selection is a bitmask (1: a name list) */
#define IPC_CHUNK	65536
#define IPC_MAX_PAYLOAD	(16u << 20)

enum ipc_command {
	IPC_CMD_STATUS = 1,
	IPC_CMD_ENFORCE = 2,
	IPC_CMD_RELOAD = 3,
};

#define IPC_FLAG_DRY_RUN 0x1u
/* status: re-check the selected layers now instead of answering from the
 * daemon's live state (`jefe status --fresh`). */
#define IPC_FLAG_FRESH	0x2u
#define IPC_FLAGS_KNOWN	(IPC_FLAG_DRY_RUN | IPC_FLAG_FRESH)

/*
 * Decoded request.  layers is the layer mask of layer.h (bit i is
 * jefe_layers[i], 0 for every layer): the CLI parses the names once, and
 * neither the socket nor the daemon has a name parser of its own.
 */
struct ipc_request {
	uint16_t command;
	uint32_t flags;
	uint32_t layers;
};

/* On the wire: magic u32, version u16, command u16, flags u32, layers u32; little endian. */
#define IPC_REQUEST_SIZE (4 + 2 + 2 + 4 + 4)
/* On the wire: magic u32, version u16, reserved u16, status i32, length u32. */
#define IPC_REPLY_HEADER_SIZE (4 + 2 + 2 + 4 + 4)

int ipc_request_encode(const struct ipc_request *req, uint8_t *buf, size_t size);
/* -JEFE_EPROTO for a bad length, magic, command, flags or layer bit; -JEFE_EVERSION for another version. */
int ipc_request_decode(const uint8_t *buf, size_t len, struct ipc_request *req);

struct ipc_reply_header {
	int32_t status;		/* 0, or -errno / -JEFE_E* */
	uint32_t length;	/* payload bytes that follow */
};
int ipc_reply_header_encode(const struct ipc_reply_header *h, uint8_t *buf, size_t size);
int ipc_reply_header_decode(const uint8_t *buf, size_t len, struct ipc_reply_header *h);

/* Client side: connect (-ENOENT/-ECONNREFUSED when no daemon runs). */
int ipc_connect(const char *path, int *fd_out);
/* Send a request and read the whole reply; *payload is malloc'ed, NUL-terminated. */
int ipc_call(int fd, const struct ipc_request *req, int32_t *status, char **payload,
	     size_t *len);

/* Server side. */
int ipc_listen(const char *path, unsigned int mode, int gid, int *fd_out);
int ipc_send_reply(int fd, int32_t status, const char *payload, size_t len);

#endif
