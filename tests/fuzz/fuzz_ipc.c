/* SPDX-License-Identifier: MIT */
/*
 * The daemon's request decoder (any local user may send one to the status
 * socket) and the CLI's reply header decoder; what decodes re-encodes to
 * the same request.  Bytes after the layer name's NUL are ignored by the
 * decoder and not sent again by the encoder: the name is what must
 * survive (corpus/ipc/crash-1184...: a 4 after the NUL, the first finding).
 */
#include "fuzz.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_request req, again;
	struct ipc_reply_header h;
	uint8_t buf[IPC_REQUEST_SIZE];

	if (ipc_request_decode(data, size, &req) == 0) {
		if (ipc_request_encode(&req, buf, sizeof(buf)) < 0 ||
		    ipc_request_decode(buf, sizeof(buf), &again) != 0 ||
		    again.command != req.command || again.flags != req.flags ||
		    strncmp(again.layer, req.layer, sizeof(req.layer)) != 0)
			abort();	/* a decoded request must survive a round trip */
	}
	(void)ipc_reply_header_decode(data, size, &h);
	return 0;
}
