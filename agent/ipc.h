/* SPDX-License-Identifier: MIT */
/*
 * The socket between `jefe` and `jefe-setup`.  Modeled on chrony's
 * candm: a fixed-size request checked for length, magic and version before
 * anything else is looked at, and a reply header followed by a payload:
 * with IPC_FLAG_VIEW the bytes `jefe` prints (report_print() run by the
 * daemon, which holds the findings) and the exit code in the header;
 * without it the report document of report.h (compact JSON).
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
/*
 * 3: the view flags and the reply's exit code (2: the reply was always the
 * report document; 1: the layer selection was a name list).
 */
#define IPC_VERSION	3
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
/*
 * The reply is the view `jefe` prints, made by the daemon with the one
 * printer (report.h), and the header carries its exit code: the client
 * writes the bytes out and never parses a document.  JSON, VERBOSE and
 * COLOR are the view's options (--json, --verbose, --color) and go only
 * with VIEW.
 */
#define IPC_FLAG_VIEW	0x4u
#define IPC_FLAG_JSON	0x8u
#define IPC_FLAG_VERBOSE 0x10u
#define IPC_FLAG_COLOR	0x20u
#define IPC_FLAGS_VIEW_OPTS (IPC_FLAG_JSON | IPC_FLAG_VERBOSE | IPC_FLAG_COLOR)
#define IPC_FLAGS_KNOWN	(IPC_FLAG_DRY_RUN | IPC_FLAG_FRESH | IPC_FLAG_VIEW | IPC_FLAGS_VIEW_OPTS)

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
/*
 * On the wire: magic u32, version u16, exit code u16, status i32, length
 * u32.  The exit code is the view's (0 compliant, 2 drift, 1 error) for a
 * request with IPC_FLAG_VIEW answered with status 0, else 0.
 */
#define IPC_REPLY_HEADER_SIZE (4 + 2 + 2 + 4 + 4)

int ipc_request_encode(const struct ipc_request *req, uint8_t *buf, size_t size);
/* -JEFE_EPROTO for a bad length, magic, command, flags or layer bit; -JEFE_EVERSION for another version. */
int ipc_request_decode(const uint8_t *buf, size_t len, struct ipc_request *req);
/* The same, and on error `why` names the field and its value ("flags 0x40: ..."). */
int ipc_request_decode_why(const uint8_t *buf, size_t len, struct ipc_request *req,
			   char *why, size_t why_size);

struct ipc_reply_header {
	int32_t status;		/* 0, or -errno / -JEFE_E* */
	uint32_t length;	/* payload bytes that follow */
	uint16_t exit_code;	/* a view's exit code (IPC_FLAG_VIEW), else 0 */
	uint16_t version;	/* decoded: the peer's version, also on -JEFE_EVERSION */
};
int ipc_reply_header_encode(const struct ipc_reply_header *h, uint8_t *buf, size_t size);
int ipc_reply_header_decode(const uint8_t *buf, size_t len, struct ipc_reply_header *h);
/* The same, and on error `why` names the field and its value. */
int ipc_reply_header_decode_why(const uint8_t *buf, size_t len, struct ipc_reply_header *h,
				char *why, size_t why_size);

/* Client side: connect (-ENOENT/-ECONNREFUSED when no daemon runs). */
int ipc_connect(const char *path, int *fd_out);
/* Send a request and read the whole reply; *payload is malloc'ed, NUL-terminated. */
int ipc_call(int fd, const struct ipc_request *req, int32_t *status, char **payload,
	     size_t *len);
/*
 * ipc_call() with the whole reply header (the exit code of a view; the
 * daemon's version when it speaks another), and `why` naming the field
 * of a malformed reply.
 */
int ipc_call_ex(int fd, const struct ipc_request *req, struct ipc_reply_header *h,
		char **payload, size_t *len, char *why, size_t why_size);

/* Server side. */
int ipc_listen(const char *path, unsigned int mode, int gid, int *fd_out);
int ipc_send_reply(int fd, int32_t status, const char *payload, size_t len);
/* A reply whose payload is the pieces one after the other (a view: its exit code). */
struct iovec;
int ipc_send_reply_pieces(int fd, int32_t status, uint16_t exit_code,
			  const struct iovec *pieces, size_t n_pieces);

#endif
