/* SPDX-License-Identifier: MIT */
/*
 * Error codes.  Functions return 0 or a negative errno; the codes below
 * extend errno for failures that no errno describes (apk-tools does the
 * same with apk_error_str).  They start at 1024, well above any errno.
 */
#ifndef JEFE_ERRORS_H
#define JEFE_ERRORS_H

enum jefe_error {
	JEFE_EPOLICY = 1024,	/* the policy is invalid (details were reported) */
	JEFE_EPROTO,		/* malformed request or reply on the agent socket */
	JEFE_EVERSION,		/* the peer speaks another protocol version */
	JEFE_ENOTINSTALLED,	/* the component a layer manages is not installed */
	JEFE_EIMMUTABLE,	/* the kernel refuses changes until the next boot */
	JEFE_ENETLINK,		/* a netlink reply that does not parse */
	JEFE_EVALIDATE,		/* an external validator refused a candidate */
	JEFE_EDAEMON,		/* the daemon answered with an error */
	JEFE_ERATE,		/* too many requests from this uid: try again shortly */
	JEFE_EINCLUDE,		/* sshd_config Includes nest too deep (a loop) */
	JEFE_EUNTRUSTED,	/* a policy file or program others than root can change */
	JEFE_ENOTINPOLICY,	/* a layer asked for by name that the policy does not configure */
};

/* Accepts a positive or a negative code. */
const char *jefe_strerror(int err);

#endif
