/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "errors.h"

const char *jefe_strerror(int err)
{
	err = abs(err);
	switch (err) {
	case JEFE_EPOLICY:
		return "invalid policy";
	case JEFE_EPROTO:
		return "malformed message on the agent socket";
	case JEFE_EVERSION:
		return "agent protocol version mismatch";
	case JEFE_ENOTINSTALLED:
		return "not installed";
	case JEFE_EIMMUTABLE:
		return "locked by the kernel until the next boot";
	case JEFE_ENETLINK:
		return "malformed netlink reply";
	case JEFE_EVALIDATE:
		return "candidate refused by its validator";
	case JEFE_EDAEMON:
		return "the agent daemon reported an error";
	case JEFE_ERATE:
		return "rate limited";
	default:
		return strerror(err);
	}
}
