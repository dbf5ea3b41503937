/* SPDX-License-Identifier: MIT */
/*
 * The daemon's request decoder (any local user may send one to the status
 * socket) and the CLI's reply header decoder; what decodes re-encodes to
 * the same request: command, flags (the view and its options, protocol 3)
 * and the layer mask (protocol 1 sent a layer name list;
 * corpus/ipc/crash-1184... is one, now refused by length).  A refusal
 * always says why, naming the field.  A reply header that decodes
 * re-encodes to the same bytes, its exit code included.
 */
#include <string.h>

#include "fuzz.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_request req, again;
	struct ipc_reply_header h, h2;
	uint8_t buf[IPC_REQUEST_SIZE], hbuf[IPC_REPLY_HEADER_SIZE];
	char why[256] = "";

	if (ipc_request_decode_why(data, size, &req, why, sizeof(why)) == 0) {
		if (ipc_request_encode(&req, buf, sizeof(buf)) < 0 ||
		    ipc_request_decode(buf, sizeof(buf), &again) != 0 ||
		    again.command != req.command || again.flags != req.flags ||
		    again.layers != req.layers)
			abort();	/* a decoded request must survive a round trip */
	} else if (why[0] == '\0') {
		abort();	/* a refused request is told why */
	}
	why[0] = '\0';
	if (ipc_reply_header_decode_why(data, size, &h, why, sizeof(why)) == 0) {
		if (ipc_reply_header_encode(&h, hbuf, sizeof(hbuf)) != IPC_REPLY_HEADER_SIZE ||
		    memcmp(hbuf, data, sizeof(hbuf)) != 0 ||
		    ipc_reply_header_decode(hbuf, sizeof(hbuf), &h2) != 0 ||
		    h2.exit_code != h.exit_code || h2.status != h.status || h2.length != h.length)
			abort();
	} else if (why[0] == '\0') {
		abort();
	}
	return 0;
}
