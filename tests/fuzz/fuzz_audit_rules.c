/* SPDX-License-Identifier: MIT */
/* The audit rule parser (auditctl syntax), and the formatting of what it built. */
#include "audit_rules.h"
#include "fuzz.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), buf[8192];
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };

	/* root_fd -1: no look at any filesystem for -w directories. */
	if (audit_rules_parse(&rs, "fuzz.rules", text, "jefe", -1, &errs) == 0) {
		for (size_t i = 0; i < rs.n; i++) {
			(void)audit_rule_format(rs.v[i].data, buf, sizeof(buf));
			(void)audit_rule_equal(rs.v[i].data, rs.v[0].data);
			(void)audit_rule_has_key(rs.v[i].data, "jefe");
		}
	}
	audit_ruleset_free(&rs);
	policy_errors_free(&errs);
	free(text);
	return 0;
}
