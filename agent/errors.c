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
	case JEFE_EINCLUDE:
		return "sshd_config Include nested more than 16 deep (an Include loop)";
	case JEFE_EUNTRUSTED:
		return "writable by others than root";
	case JEFE_ENOTINPOLICY:
		return "layer not configured by the policy";
	default:
		return strerror(err);
	}
}
