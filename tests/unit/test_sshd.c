/* SPDX-License-Identifier: MIT */
/*
 * The sshd layer's pure parts: `sshd -T` parsing, values compared as sshd
 * means them, sshd_config and its Includes read below a temporary root,
 * the drop-in text, the minimal sshd_config edit, the connection that
 * enters a Match block; and the layer's policy validation.  The real
 * sshd is exercised by tests/sshd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "policy.h"
#include "sshd_conf.h"

static const struct sshd_keyword *kw(const char *name)
{
	const struct sshd_keyword *k = sshd_keyword_find(name);

	assert_non_null(k);
	return k;
}

static char *norm(const char *name, const char *value)
{
	char *out = NULL, why[256];

	assert_int_equal(sshd_value_normalize(kw(name), value, &out, why, sizeof(why)), 0);
	return out;
}

static void test_dump_parse(void **state)
{
	struct sshd_dump d;

	(void)state;
	assert_int_equal(sshd_dump_parse(&d,
		"port 22\n"
		"permitrootlogin without-password\n"
		"hostkey /etc/ssh/ssh_host_rsa_key\n"
		"hostkey /etc/ssh/ssh_host_ed25519_key\n"
		"ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"
		"subsystem sftp /usr/lib/openssh/sftp-server\n"
		"banner none"), 0);
	assert_string_equal(sshd_dump_get(&d, "PermitRootLogin"), "without-password");
	assert_string_equal(sshd_dump_get(&d, "hostkey"),
			    "/etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ed25519_key");
	assert_string_equal(sshd_dump_get(&d, "subsystem"), "sftp /usr/lib/openssh/sftp-server");
	assert_string_equal(sshd_dump_get(&d, "banner"), "none");
	assert_null(sshd_dump_get(&d, "usepam"));
	sshd_dump_free(&d);
}

static void test_normalize(void **state)
{
	char *v, why[256];

	(void)state;
	v = norm("LoginGraceTime", "1m30s");
	assert_string_equal(v, "90");
	free(v);
	v = norm("ClientAliveInterval", "2h");
	assert_string_equal(v, "7200");
	free(v);
	v = norm("PermitRootLogin", "Without-Password");
	assert_string_equal(v, "prohibit-password");
	free(v);
	v = norm("AllowTcpForwarding", "all");
	assert_string_equal(v, "yes");
	free(v);
	v = norm("LogLevel", "verbose");
	assert_string_equal(v, "VERBOSE");
	free(v);
	v = norm("MaxStartups", "10");
	assert_string_equal(v, "10:100:10");
	free(v);
	v = norm("passwordauthentication", "NO");
	assert_string_equal(v, "no");
	free(v);
	/* The old name of an option is the same option. */
	assert_ptr_equal(sshd_keyword_find("ChallengeResponseAuthentication"),
			 sshd_keyword_find("KbdInteractiveAuthentication"));
	/* TCPKeepAlive: a yes/no that sshd refuses inside Match, without a CIS item. */
	v = norm("tcpkeepalive", "No");
	assert_string_equal(v, "no");
	free(v);
	assert_false(kw("TCPKeepAlive")->in_match);
	assert_int_equal(kw("TCPKeepAlive")->refs.n, 0);
	/* The references of the table: CIS Debian Linux 12 v1.0.1 and a STIG id. */
	assert_int_equal(kw("X11Forwarding")->refs.n, 2);
	assert_string_equal(kw("X11Forwarding")->refs.v[0].id, "5.1.8");
	assert_string_equal(kw("X11Forwarding")->refs.v[1].benchmark, REF_STIG_BENCHMARK);
	assert_string_equal(kw("Banner")->refs.v[0].id, "5.1.5");
	assert_string_equal(kw("Banner")->refs.v[0].version, "1.0.1");

	assert_int_equal(sshd_value_normalize(kw("Ciphers"), "+aes128-ctr", &v, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "list the algorithms"));
	assert_int_equal(sshd_value_normalize(kw("MaxAuthTries"), "three", &v, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "MaxAuthTries must be a number"));
	assert_int_equal(sshd_value_normalize(kw("PermitRootLogin"), "maybe", &v, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "prohibit-password"));
	assert_int_equal(sshd_value_normalize(kw("MaxStartups"), "60:30:10", &v, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(sshd_value_normalize(kw("LoginGraceTime"), "5x", &v, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(sshd_value_normalize(kw("X11Forwarding"), "", &v, why, sizeof(why)),
			 -EINVAL);
}

static void test_equal(void **state)
{
	(void)state;
	/* Algorithm lists are the set sshd allows: order does not matter... */
	assert_true(sshd_value_equal(kw("Ciphers"),
				     "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
				     "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"));
	/* ...membership does. */
	assert_false(sshd_value_equal(kw("Ciphers"),
				      "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
				      "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr"));
	assert_false(sshd_value_equal(kw("Ciphers"),
				      "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
				      "chacha20-poly1305@openssh.com"));
	/* sshd -T prints what the file says in its own spelling. */
	assert_true(sshd_value_equal(kw("PermitRootLogin"), "prohibit-password", "without-password"));
	assert_true(sshd_value_equal(kw("LoginGraceTime"), "60", "1m"));
	assert_true(sshd_value_equal(kw("LogLevel"), "VERBOSE", "verbose"));
	assert_true(sshd_value_equal(kw("MaxStartups"), "10:30:60", "10:30:60"));
	assert_false(sshd_value_equal(kw("MaxStartups"), "10:30:60", "10:30:100"));
	assert_true(sshd_value_equal(kw("AllowUsers"), "alice bob", "bob alice"));
	assert_false(sshd_value_equal(kw("PasswordAuthentication"), "no", "yes"));
	assert_false(sshd_value_equal(kw("PasswordAuthentication"), "no", NULL));
	assert_false(sshd_value_equal(kw("MaxAuthTries"), "3", "garbage"));
}

static void test_line_split(void **state)
{
	char *k, *a;

	(void)state;
	assert_int_equal(sshd_line_split("  # a comment", &k, &a), 0);
	assert_int_equal(sshd_line_split("   ", &k, &a), 0);
	assert_int_equal(sshd_line_split("PasswordAuthentication=yes", &k, &a), 1);
	assert_string_equal(k, "PasswordAuthentication");
	assert_string_equal(a, "yes");
	free(k);
	free(a);
	assert_int_equal(sshd_line_split("\tMaxAuthTries  =  4   # four", &k, &a), 1);
	assert_string_equal(k, "MaxAuthTries");
	assert_string_equal(a, "4");
	free(k);
	free(a);
	assert_int_equal(sshd_line_split("AcceptEnv LANG LC_*", &k, &a), 1);
	assert_string_equal(a, "LANG LC_*");
	free(k);
	free(a);
}

/* A temporary root with an sshd_config and drop-ins. */
struct tree {
	char *root;
	int fd;
};

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	t->root = tu_mkdtemp();
	t->fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	close(t->fd);
	tu_rmtree(t->root);
	free(t->root);
	free(t);
	return 0;
}

static const struct sshd_cfgline *find_line(const struct sshd_conf *c, const char *file,
					    const char *keyword)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].file, file) == 0 && strcmp(c->v[i].keyword, keyword) == 0)
			return &c->v[i];
	return NULL;
}

static void test_conf_read(void **state)
{
	struct tree *t = *state;
	struct sshd_conf c;
	const struct sshd_cfgline *l;

	tu_write(t->root, "etc/ssh/sshd_config",
		 "PermitRootLogin yes\n"
		 "Include sshd_config.d/*.conf\n"
		 "X11Forwarding yes\n"
		 "Match User alice\n"
		 "\tPasswordAuthentication yes\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/00-early.conf", "MaxAuthTries 9\nMatch all\nBanner x\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/00-jefe.conf", "MaxAuthTries 3\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/50-late.conf", "LogLevel DEBUG\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/README", "not a conf\n");

	assert_int_equal(sshd_conf_read(&c, t->fd, t->root, SSHD_CONFIG, NULL, SSHD_DROPIN, NULL), 0);
	assert_true(c.ours_included);
	/* sshd's order: main up to the Include, the glob in name order, the rest. */
	assert_int_equal(c.files.n, 4);
	assert_string_equal(c.files.v[1], "/etc/ssh/sshd_config.d/00-early.conf");
	assert_string_equal(c.files.v[2], SSHD_DROPIN);
	assert_string_equal(c.files.v[3], "/etc/ssh/sshd_config.d/50-late.conf");
	l = find_line(&c, SSHD_CONFIG, "PermitRootLogin");
	assert_true(l->before_ours && !l->ours && !l->match && l->line == 1);
	l = find_line(&c, "/etc/ssh/sshd_config.d/00-early.conf", "MaxAuthTries");
	assert_true(l->before_ours);
	/* A Match in an included file ends with that file. */
	l = find_line(&c, "/etc/ssh/sshd_config.d/00-early.conf", "Banner");
	assert_string_equal(l->match, "all");
	l = find_line(&c, SSHD_DROPIN, "MaxAuthTries");
	assert_true(l->ours && !l->before_ours);
	l = find_line(&c, "/etc/ssh/sshd_config.d/50-late.conf", "LogLevel");
	assert_true(!l->before_ours && !l->match);
	l = find_line(&c, SSHD_CONFIG, "X11Forwarding");
	assert_true(!l->before_ours && !l->match);
	l = find_line(&c, SSHD_CONFIG, "PasswordAuthentication");
	assert_string_equal(l->match, "User alice");
	assert_int_equal(l->line, 5);
	sshd_conf_free(&c);

	/* A candidate drop-in that does not exist yet is read in its sorted place. */
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/etc/ssh/sshd_config.d/00-jefe.conf", t->root);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(sshd_conf_read(&c, t->fd, t->root, SSHD_CONFIG, NULL, SSHD_DROPIN,
					"PasswordAuthentication no\n"), 0);
	assert_true(c.ours_included);
	assert_string_equal(c.files.v[2], SSHD_DROPIN);
	l = find_line(&c, SSHD_DROPIN, "PasswordAuthentication");
	assert_true(l && l->ours);
	sshd_conf_free(&c);
	assert_int_equal(sshd_conf_read(&c, t->fd, t->root, SSHD_CONFIG, NULL, SSHD_DROPIN, NULL), 0);
	assert_int_equal(c.files.n, 3);
	sshd_conf_free(&c);
}

/*
 * An Include loop inside a Match block: refused with its own message (not
 * "Too many levels of symbolic links"), and the Match copy is not leaked
 * (the sanitizer build's LeakSanitizer fails this test when it is).
 */
static void test_conf_include_loop(void **state)
{
	struct tree *t = *state;
	struct sshd_conf c;
	int r;

	tu_write(t->root, "etc/ssh/sshd_config",
		 "Match User alice\n\tInclude /etc/ssh/loop.conf\n");
	tu_write(t->root, "etc/ssh/loop.conf", "Include /etc/ssh/loop.conf\n");
	r = sshd_conf_read(&c, t->fd, t->root, SSHD_CONFIG, NULL, SSHD_DROPIN, NULL);
	assert_int_equal(r, -JEFE_EINCLUDE);
	assert_string_equal(jefe_strerror(r),
			    "sshd_config Include nested more than 16 deep (an Include loop)");
}

static void test_render_top(void **state)
{
	struct tree *t = *state;
	char *top, expect[8192];

	tu_write(t->root, "etc/ssh/sshd_config.d/10-a.conf", "X11Forwarding no\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/90-z.conf", "LogLevel INFO\n");
	tu_write(t->root, "etc/ssh/sshd_config.d/00-jefe.conf.jefe-candidate", "MaxAuthTries 3\n");
	assert_int_equal(sshd_conf_render_top(t->fd, t->root,
		"# head\nInclude /etc/ssh/sshd_config.d/*.conf\nInclude /etc/ssh/nothing/*.conf\nPort 22\n",
		SSHD_DROPIN, SSHD_DROPIN ".jefe-candidate", &top), 0);
	/* Explicit files below root, the candidate in ours' sorted place. */
	snprintf(expect, sizeof(expect),
		 "# head\nInclude %s/etc/ssh/sshd_config.d/00-jefe.conf.jefe-candidate "
		 "%s/etc/ssh/sshd_config.d/10-a.conf %s/etc/ssh/sshd_config.d/90-z.conf\n"
		 "# Include /etc/ssh/nothing/*.conf (matches nothing)\nPort 22\n",
		 t->root, t->root, t->root);
	assert_string_equal(top, expect);
	free(top);
	/* No candidate: the real files, ours absent. */
	assert_int_equal(sshd_conf_render_top(t->fd, t->root, "Include sshd_config.d/*.conf\n",
					      SSHD_DROPIN, NULL, &top), 0);
	snprintf(expect, sizeof(expect),
		 "Include %s/etc/ssh/sshd_config.d/10-a.conf %s/etc/ssh/sshd_config.d/90-z.conf\n",
		 t->root, t->root);
	assert_string_equal(top, expect);
	free(top);
}

/*
 * sshd opens the Include paths itself, on the host: when sshd_config.d is
 * a symlink to a directory outside the root (here another temporary tree
 * standing for the host, with the same path planted inside the root), the
 * host path names another file than the root does, and is refused.
 */
static void test_render_top_confined(void **state)
{
	struct tree *t = *state;
	char *host = tu_mkdtemp(), link[4096], *top = NULL;

	tu_write(host, "10-host.conf", "PermitRootLogin yes\n");
	/* The same path inside the root, so the in-root view finds a file too. */
	snprintf(link, sizeof(link), "%s/10-host.conf", host + 1);
	tu_write(t->root, link, "PermitRootLogin no\n");
	tu_write(t->root, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n");
	snprintf(link, sizeof(link), "%s/etc/ssh/sshd_config.d", t->root);
	assert_int_equal(symlink(host, link), 0);
	assert_int_equal(sshd_conf_render_top(t->fd, t->root,
		"Include /etc/ssh/sshd_config.d/*.conf\n", SSHD_DROPIN, NULL, &top), -EXDEV);
	assert_null(top);
	tu_rmtree(host);
	free(host);
}

static struct sshd_setting settings[3];

static struct sshd_want_set want_set(void)
{
	settings[0] = (struct sshd_setting){ sshd_keyword_find("PasswordAuthentication"), "no" };
	settings[1] = (struct sshd_setting){ sshd_keyword_find("PermitRootLogin"), "no" };
	settings[2] = (struct sshd_setting){ sshd_keyword_find("Ciphers"),
					     "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com" };
	return (struct sshd_want_set){ settings, 3 };
}

static void test_dropin_render(void **state)
{
	struct sshd_want_set w = want_set();
	bool supported[3] = { true, true, false }, in_match[3] = { true, false, false };
	char *text;

	(void)state;
	assert_int_equal(sshd_dropin_render(w.s, w.n, NULL, NULL, &text), 0);
	assert_non_null(strstr(text, "\nPasswordAuthentication no\nPermitRootLogin no\n"
				     "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"));
	assert_null(strstr(text, "Match"));
	free(text);
	/* Unsupported keywords are left out; Match all only for what Match blocks override. */
	assert_int_equal(sshd_dropin_render(w.s, w.n, supported, in_match, &text), 0);
	assert_null(strstr(text, "Ciphers"));
	assert_non_null(strstr(text, "\nMatch all\n\tPasswordAuthentication no\n"));
	assert_null(strstr(strstr(text, "Match all"), "PermitRootLogin"));
	free(text);
}

static void test_match_overrides(void **state)
{
	struct tree *t = *state;
	struct sshd_want_set w = want_set();
	struct sshd_conf c;
	bool over[3] = { false };

	tu_write(t->root, "etc/ssh/sshd_config",
		 "Include /etc/ssh/sshd_config.d/*.conf\n"
		 "Match Address 10.0.0.0/8\n\tPermitRootLogin no\n"
		 "Match User bob\n\tPasswordAuthentication yes\n");
	assert_int_equal(sshd_conf_read(&c, t->fd, t->root, SSHD_CONFIG, NULL, SSHD_DROPIN, "X\n"), 0);
	sshd_match_overrides(&w, &c, over);
	assert_true(over[0]);		/* yes in a Match block */
	assert_false(over[1]);		/* the policy's value: nothing to override */
	assert_false(over[2]);
	sshd_conf_free(&c);
}

static void test_plan_main(void **state)
{
	struct tree *t = *state;
	struct sshd_want_set w = want_set();
	char *out, note[512];

	tu_write(t->root, "etc/ssh/sshd_config.d/50-x.conf", "X11Forwarding no\n");
	/* Already first: no change. */
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root,
		"# stock\nInclude /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n",
		"PasswordAuthentication no\n", &out, note, sizeof(note)), 0);
	assert_null(out);

	/* A conflicting directive before the Include: the Include line moves up, nothing else. */
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root,
		"# stock\nPasswordAuthentication yes\nUsePAM yes\nInclude /etc/ssh/sshd_config.d/*.conf\nPort 22\n",
		"PasswordAuthentication no\n", &out, note, sizeof(note)), 0);
	assert_non_null(out);
	assert_string_equal(out,
		"# stock\n# jefe: drop-ins first; sshd keeps the first value it reads\n"
		"Include /etc/ssh/sshd_config.d/*.conf\n"
		"PasswordAuthentication yes\nUsePAM yes\nPort 22\n");
	assert_non_null(strstr(note, "line 2 (PasswordAuthentication)"));
	free(out);

	/* A non-conflicting directive before it is fine (it is not managed). */
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root,
		"UsePAM yes\nPasswordAuthentication no\nInclude /etc/ssh/sshd_config.d/*.conf\n",
		"PasswordAuthentication no\n", &out, note, sizeof(note)), 0);
	assert_null(out);

	/* No Include at all: one is added at the top. */
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root, "Port 22\n",
		"PasswordAuthentication no\n", &out, note, sizeof(note)), 0);
	assert_non_null(out);
	assert_non_null(strstr(out, "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"));
	assert_non_null(strstr(note, "does not include"));
	free(out);

	/* A Match block before the Include would swallow the drop-in. */
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root,
		"Match User x\n\tX11Forwarding yes\nInclude /etc/ssh/sshd_config.d/*.conf\n",
		"PasswordAuthentication no\n", &out, note, sizeof(note)), 0);
	assert_non_null(out);
	assert_true(strncmp(out, "# jefe: drop-ins first", 22) == 0);
	free(out);

	/* A drop-in that sorts before ours and conflicts: ours is included explicitly first. */
	tu_write(t->root, "etc/ssh/sshd_config.d/00-early.conf", "PermitRootLogin yes\n");
	assert_int_equal(sshd_plan_main(&w, t->fd, t->root,
		"Include /etc/ssh/sshd_config.d/*.conf\n",
		"PermitRootLogin no\n", &out, note, sizeof(note)), 0);
	assert_non_null(out);
	assert_string_equal(out,
		"# jefe: this drop-in first, before any that sorts earlier\n"
		"Include /etc/ssh/sshd_config.d/00-jefe.conf\n"
		"Include /etc/ssh/sshd_config.d/*.conf\n");
	assert_non_null(strstr(note, "00-early.conf line 1 (PermitRootLogin)"));
	/* And that result needs nothing more. */
	{
		char *again;

		assert_int_equal(sshd_plan_main(&w, t->fd, t->root, out, "PermitRootLogin no\n",
						&again, note, sizeof(note)), 0);
		assert_null(again);
	}
	free(out);
}

static void test_match_spec(void **state)
{
	struct tree *t = *state;
	char spec[512];

	tu_write(t->root, "etc/group", "root:x:0:\nwheel:x:10:carol,dave\nstaff:x:50:\n");
	tu_write(t->root, "etc/passwd", "root:x:0:0::/root:/bin/sh\nerin:x:1001:50::/home/erin:/bin/sh\n");
	assert_int_equal(sshd_match_spec(t->fd, "User alice,bob", spec, sizeof(spec)), 0);
	assert_string_equal(spec, "user=alice,host=jefe-check.invalid,addr=192.0.2.1");
	assert_int_equal(sshd_match_spec(t->fd, "User !root,adm*", spec, sizeof(spec)), 0);
	assert_string_equal(spec, "user=admx,host=jefe-check.invalid,addr=192.0.2.1");
	assert_int_equal(sshd_match_spec(t->fd, "Address 10.0.0.0/8 LocalPort 2222", spec,
					 sizeof(spec)), 0);
	assert_string_equal(spec, "user=jefe-check,host=jefe-check.invalid,addr=10.0.0.0,lport=2222");
	assert_int_equal(sshd_match_spec(t->fd, "Group wheel", spec, sizeof(spec)), 0);
	assert_string_equal(spec, "user=carol,host=jefe-check.invalid,addr=192.0.2.1");
	/* A group without listed members: a user whose primary group it is. */
	assert_int_equal(sshd_match_spec(t->fd, "Group staff", spec, sizeof(spec)), 0);
	assert_string_equal(spec, "user=erin,host=jefe-check.invalid,addr=192.0.2.1");
	assert_int_equal(sshd_match_spec(t->fd, "All", spec, sizeof(spec)), 0);
	assert_int_equal(sshd_match_spec(t->fd, "User !root", spec, sizeof(spec)), -ENOTSUP);
	assert_int_equal(sshd_match_spec(t->fd, "Group nosuch", spec, sizeof(spec)), -ENOTSUP);
}

static void test_spec_validate(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(sshd_spec_validate("user=a,host=h,addr=1.2.3.4,lport=22", why, sizeof(why)), 0);
	assert_int_equal(sshd_spec_validate("user=a,host=h", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "all given"));
	assert_int_equal(sshd_spec_validate("user=a,host=h,addr=1,colour=red", why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "colour"));
}

/* The layer's load(): every error with file and line, nothing kept on error. */
static void test_layer_load(void **state)
{
	struct tree *t = *state;
	struct jefe_env env = { .root = t->root, .root_fd = t->fd, .policy_dir = TU_POLICY_DIR };
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char path[4096], *files[1];
	void *st = NULL;
	struct findings out = { 0 };

	snprintf(path, sizeof(path), "%s/policy.conf", t->root);
	files[0] = path;
	tu_write(t->root, "policy.conf",
		 "[sshd]\n"
		 "PermitRootLogin = no\n"
		 "MaxAuthTries = lots\n"
		 "NoSuchOption = yes\n"
		 "Ciphers = +aes128-ctr\n"
		 "allow_lockout = perhaps\n"
		 "check_connections = user=a,host=b\n");
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), -JEFE_EPOLICY);
	assert_null(st);
	assert_int_equal(errs.n, 5);
	assert_non_null(strstr(errs.msgs[0], "policy.conf line 3"));
	assert_non_null(strstr(errs.msgs[0], "MaxAuthTries must be a number"));
	assert_non_null(strstr(errs.msgs[1], "line 4"));
	assert_non_null(strstr(errs.msgs[1], "unknown key 'NoSuchOption' in [sshd]"));
	assert_non_null(strstr(errs.msgs[2], "line 5"));
	assert_non_null(strstr(errs.msgs[3], "line 6"));
	assert_non_null(strstr(errs.msgs[4], "line 7"));
	policy_errors_free(&errs);
	policy_free(p);

	/* No sshd: one unsupported "not installed" item, no error. */
	tu_write(t->root, "policy.conf",
		 "[sshd]\nmode = report\npasswordauthentication = no\nMaxAuthTries = unmanaged\n"
		 "sshd_path = /nonexistent/sbin/sshd\n");
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(st);
	assert_int_equal(layer_sshd_ops.check(st, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].state, FINDING_UNSUPPORTED);
	assert_string_equal(out.v[0].note, "not installed");
	findings_free(&out);
	assert_int_equal(layer_sshd_ops.apply(st, false, &out), 0);
	assert_int_equal(out.v[0].state, FINDING_UNSUPPORTED);
	findings_free(&out);
	layer_sshd_ops.free(st);
	policy_free(p);

	/* No [sshd] section: the layer has nothing to do. */
	tu_write(t->root, "policy.conf", "[agent]\nmode = report\n");
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), 0);
	assert_null(st);
	policy_free(p);
	policy_errors_free(&errs);
}

/* ssh -Q is the judge of algorithm names (openssh-client is a test dependency). */
static void test_layer_algorithms(void **state)
{
	struct tree *t = *state;
	struct jefe_env env = { .root = t->root, .root_fd = t->fd, .policy_dir = TU_POLICY_DIR };
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char path[4096], *files[1];
	void *st = NULL;

	if (access("/usr/bin/ssh", X_OK) != 0)
		fail_msg("/usr/bin/ssh is missing: install openssh-client (build.sh does)");
	snprintf(path, sizeof(path), "%s/policy.conf", t->root);
	files[0] = path;
	tu_write(t->root, "policy.conf",
		 "[sshd]\nCiphers = chacha20-poly1305@openssh.com,rot13-ctr\n"
		 "MACs = hmac-sha2-512-etm@openssh.com\n");
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), -JEFE_EPOLICY);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "line 2"));
	assert_non_null(strstr(errs.msgs[0], "'rot13-ctr' is not supported"));
	policy_errors_free(&errs);
	policy_free(p);
}

/*
 * Weak algorithms the installed OpenSSH still supports (CBC ciphers, SHA-1
 * MACs, NIST-curve or DSA host keys) are refused unless allow_weak = yes.
 */
static void test_layer_weak_algorithms(void **state)
{
	struct tree *t = *state;
	struct jefe_env env = { .root = t->root, .root_fd = t->fd, .policy_dir = TU_POLICY_DIR };
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char path[4096], *files[1];
	void *st = NULL;
	static const char weak[] =
		"Ciphers = chacha20-poly1305@openssh.com,aes128-cbc\n"
		"MACs = hmac-sha2-512-etm@openssh.com,hmac-sha1\n"
		"HostKeyAlgorithms = ssh-ed25519,ecdsa-sha2-nistp256,ssh-dss\n";
	char text[1024];

	if (access("/usr/bin/ssh", X_OK) != 0)
		fail_msg("/usr/bin/ssh is missing: install openssh-client (build.sh does)");
	snprintf(path, sizeof(path), "%s/policy.conf", t->root);
	files[0] = path;
	snprintf(text, sizeof(text), "[sshd]\n%s", weak);
	tu_write(t->root, "policy.conf", text);
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), -JEFE_EPOLICY);
	assert_null(st);
	assert_int_equal(errs.n, 4);
	assert_non_null(strstr(errs.msgs[0], "policy.conf line 2: Ciphers: 'aes128-cbc' is weak (CBC mode); "
			       "refused unless [sshd] allow_weak = yes"));
	assert_non_null(strstr(errs.msgs[1], "line 3: MACs: 'hmac-sha1' is weak (SHA-1)"));
	assert_non_null(strstr(errs.msgs[2], "line 4: HostKeyAlgorithms: 'ecdsa-sha2-nistp256' is weak (NIST curve)"));
	assert_non_null(strstr(errs.msgs[3], "line 4: HostKeyAlgorithms: 'ssh-dss' is weak (DSA)"));
	policy_errors_free(&errs);
	policy_free(p);

	/* The admin who knows why may have them. */
	snprintf(text, sizeof(text), "[sshd]\nallow_weak = yes\n%s", weak);
	tu_write(t->root, "policy.conf", text);
	assert_int_equal(policy_load_files(&p, files, 1, &errs), 0);
	assert_int_equal(layer_load(&layer_sshd_ops, &st, &env, p, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(st);
	layer_sshd_ops.free(st);
	policy_errors_free(&errs);
	policy_free(p);
}

/* Host public keys as ssh-keygen writes them: type and size from the blob itself. */
static void test_pubkey_info(void **state)
{
	static const char rsa3072[] =
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDGcShfjcP2PLuaXULxEgVtNPy5JEnUf3PNo7fZPxW9"
		"08JK2wY4Q5aUhj/yxcUdA1qZ612bXLSbWiMKoHxubn//M5SMC4y0Xa+Z2Axrf/SA2TyX3gnypewId4Gm"
		"xy4WJGR7B0+lWXP1SWXabRsTmU2an9oprZkRD40NywZXiZUkhQoolwM3pDJnG7vyuqooiJdTyoNGSpoa"
		"T6mHYzdsb8dYb+xuwTo+GYUoKoGrerBqnnwLNEbSwQEKg3Y3KpHV8e01Oy8VDnTeHKAptV6FfVO4xHau"
		"gr1QRyJUNvWJJh2mU4bBh+6WUTb1lP+foGpoT/DglFdF8cRXIsKAQGSxmHfrHtCEFXqkHIaiBhgiBJg7"
		"clf+m1SrdTYnijdwhG9+fZ5z6QitduxwBcyLiM2GXKXvBRFvH8zUKsu9lZvHB8R5up6p21HVpBuxSnEG"
		"G/q7dk2j44vzqwINKFHl1MO0vouFXxgW24+tWklQURZYOmJ2Z3l8U77FjUN9Vm51fKWdquU=";
	static const char rsa2048[] =
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDKtQkNGsZRBvUEFf8Qzjo+BqzFmBIJnuzlQhlYO2A+"
		"4Gof9P8mFnhu4ASEHVcuckKIByWST+ZVNFTScfRE5SWBg9iTjQ7gy1ZDJLoxFZM6iHxdNTkm712o+xAB"
		"pXgSIqM/iYYxna6gmDhBw/utB0SgITpU4Gt9yaHScP9EQ2ADGiQa6yhMkAER7km51wIGf8T6WdiVOHHc"
		"6aD0wBiIBXXcapWWg3QMAapt8TXP+0eCMkC0ya6jCzdy7HqCmaIXqfiIurzcBWd11OYoQJctSY7z5yQ0"
		"SskzbrnyulJnckcwljZNasaNhP9JZJtqwvt03v2beoVw9Ehv2bciPxN+IWX/" " root@host\n";
	static const char ecdsa[] =
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI1erz3g"
		"pMettNr6R55cDxWYI9sEq7q7Xm1v+G6j3Y9P2U/QJtFs4QkrohoILUJG/nLtCggLamOvU9Ycpgk1cvA=";
	static const char ed25519[] =
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMZYApddM7WqTpVThVk4rr5Hdav3e8WM9W0tjCGVJcDy" " comment";
	char type[64];
	unsigned bits;

	(void)state;
	assert_int_equal(sshd_pubkey_info(rsa3072, type, sizeof(type), &bits), 0);
	assert_string_equal(type, "ssh-rsa");
	assert_int_equal(bits, 3072);
	assert_int_equal(sshd_pubkey_info(rsa2048, type, sizeof(type), &bits), 0);
	assert_string_equal(type, "ssh-rsa");
	assert_int_equal(bits, 2048);
	assert_int_equal(sshd_pubkey_info(ecdsa, type, sizeof(type), &bits), 0);
	assert_string_equal(type, "ecdsa-sha2-nistp256");
	assert_int_equal(bits, 0);
	assert_int_equal(sshd_pubkey_info(ed25519, type, sizeof(type), &bits), 0);
	assert_string_equal(type, "ssh-ed25519");
	assert_int_equal(bits, 256);
	/* The blob's type wins over the line's first word. */
	assert_int_equal(sshd_pubkey_info("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQDKtQ", type, sizeof(type), &bits), -EINVAL);
	assert_int_equal(sshd_pubkey_info("ssh-rsa", type, sizeof(type), &bits), -EINVAL);
	assert_int_equal(sshd_pubkey_info("ssh-rsa !!!!", type, sizeof(type), &bits), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_parse),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_line_split),
		cmocka_unit_test(test_pubkey_info),
		cmocka_unit_test_setup_teardown(test_conf_read, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_conf_include_loop, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_render_top, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_render_top_confined, tree_setup, tree_teardown),
		cmocka_unit_test(test_dropin_render),
		cmocka_unit_test_setup_teardown(test_match_overrides, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_plan_main, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_match_spec, tree_setup, tree_teardown),
		cmocka_unit_test(test_spec_validate),
		cmocka_unit_test_setup_teardown(test_layer_load, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_layer_algorithms, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_layer_weak_algorithms, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
