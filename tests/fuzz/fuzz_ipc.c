/* SPDX-License-Identifier: MIT */
/*
 * The daemon's request decoder (any local user may send one to the status
 * socket) and the CLI's reply header decoder; what decodes re-encodes to
 * the same request: command, flags and the layer mask (protocol 1 sent a
 * layer name list; corpus/ipc/crash-1184... is one, now refused by length).
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
		    again.layers != req.layers)
			abort();	/* a decoded request must survive a round trip */
	}
	(void)ipc_reply_header_decode(data, size, &h);
	return 0;
}
