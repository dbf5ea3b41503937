/* SPDX-License-Identifier: MIT */
/*
 * The IPC codec and socket helpers: requests and reply headers built then
 * parsed back, every malformed field refused with the right code and in
 * the right order (length, magic, version, then the rest), and a real
 * SOCK_SEQPACKET exchange with a multi-chunk reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "ipc.h"
#include "layer.h"
#include "util.h"

static void encode_ok(uint16_t command, uint32_t flags, uint32_t layers, uint8_t *buf)
{
	struct ipc_request req = { .command = command, .flags = flags, .layers = layers };

	assert_int_equal(ipc_request_encode(&req, buf, IPC_REQUEST_SIZE), IPC_REQUEST_SIZE);
}

static void test_request_round_trip(void **unused)
{
	static const struct {
		uint16_t command;
		uint32_t flags;
		uint32_t layers;
	} cases[] = {
		{ IPC_CMD_STATUS, 0, 0 },
		{ IPC_CMD_STATUS, 0, LAYER_BIT(0) },
		{ IPC_CMD_ENFORCE, IPC_FLAG_DRY_RUN, LAYER_BIT(0) },
		{ IPC_CMD_STATUS, IPC_FLAG_FRESH, 0 },
		{ IPC_CMD_ENFORCE, 0, 0 },
		{ IPC_CMD_RELOAD, 0, 0 },
		/* The view `jefe` prints, with each of its options. */
		{ IPC_CMD_STATUS, IPC_FLAG_VIEW, 0 },
		{ IPC_CMD_STATUS, IPC_FLAG_VIEW | IPC_FLAG_JSON | IPC_FLAG_FRESH, LAYER_BIT(1) },
		{ IPC_CMD_ENFORCE, IPC_FLAG_DRY_RUN | IPC_FLAG_VIEW | IPC_FLAG_VERBOSE |
				   IPC_FLAG_COLOR, 0 },
		/* Every layer of the table named at once: no length limit to overflow. */
		{ IPC_CMD_STATUS, 0, LAYER_BIT(0) | LAYER_BIT(1) | LAYER_BIT(2) | LAYER_BIT(3) |
				     LAYER_BIT(4) | LAYER_BIT(5) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[IPC_REQUEST_SIZE];
		struct ipc_request out;

		encode_ok(cases[i].command, cases[i].flags, cases[i].layers, buf);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(ipc_request_decode(buf, sizeof(buf), &out), 0);
		assert_int_equal(out.command, cases[i].command);
		assert_int_equal(out.flags, cases[i].flags);
		assert_int_equal(out.layers, cases[i].layers);
	}
}

/* The wire layout is little endian whatever the host is. */
static void test_request_wire_bytes(void **unused)
{
	static const uint8_t want[16] = {
		0x45, 0x46, 0x45, 0x4a,	/* magic 0x4a454645 */
		0x03, 0x00,		/* version 3: a layer mask, the view flags */
		0x02, 0x00,		/* enforce */
		0x15, 0x00, 0x00, 0x00,	/* dry run, view, verbose */
		0x21, 0x00, 0x00, 0x00,	/* layers 0 and 5 */
	};
	uint8_t buf[IPC_REQUEST_SIZE];

	assert_int_equal(IPC_REQUEST_SIZE, 16);
	memset(buf, 0xff, sizeof(buf));
	encode_ok(IPC_CMD_ENFORCE, IPC_FLAG_DRY_RUN | IPC_FLAG_VIEW | IPC_FLAG_VERBOSE,
		  LAYER_BIT(0) | LAYER_BIT(5), buf);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_request_encode_refuses(void **unused)
{
	struct ipc_request req = { .command = IPC_CMD_STATUS };
	uint8_t buf[IPC_REQUEST_SIZE];

	assert_int_equal(ipc_request_encode(&req, buf, IPC_REQUEST_SIZE - 1), -ENOBUFS);
	req.command = 9;
	assert_int_equal(ipc_request_encode(&req, buf, sizeof(buf)), -EINVAL);
	req.command = IPC_CMD_STATUS;
	req.flags = 0x40;
	assert_int_equal(ipc_request_encode(&req, buf, sizeof(buf)), -EINVAL);
	/* A view's options without the view. */
	req.flags = IPC_FLAG_JSON;
	assert_int_equal(ipc_request_encode(&req, buf, sizeof(buf)), -EINVAL);
	req.flags = 0;
	/* A bit past the layer table names no layer. */
	req.layers = LAYER_BIT(jefe_layers_count);
	assert_int_equal(ipc_request_encode(&req, buf, sizeof(buf)), -EINVAL);
}

static int decode_with(void (*mutate)(uint8_t *buf), size_t len)
{
	uint8_t buf[IPC_REQUEST_SIZE * 2];
	struct ipc_request out = { .command = 77 };
	int rc;

	memset(buf, 0, sizeof(buf));
	encode_ok(IPC_CMD_STATUS, 0, LAYER_BIT(0), buf);
	if (mutate)
		mutate(buf);
	rc = ipc_request_decode(buf, len, &out);
	/* A refused request leaves the output alone. */
	if (rc != 0)
		assert_int_equal(out.command, 77);
	return rc;
}

static void bad_magic(uint8_t *b) { b[0] ^= 0x01; }
static void bad_version(uint8_t *b) { b[4] = 1; }	/* protocol 1: layer names */
static void bad_version_2(uint8_t *b) { b[4] = 2; }	/* protocol 2: no view */
static void bad_version_high(uint8_t *b) { b[5] = 1; }
static void bad_magic_and_version(uint8_t *b) { b[3] = 0; b[4] = 9; }
static void bad_command_zero(uint8_t *b) { b[6] = 0; }
static void bad_command_high(uint8_t *b) { b[6] = 4; }
static void bad_command_msb(uint8_t *b) { b[7] = 1; }
static void bad_version_and_command(uint8_t *b) { b[4] = 7; b[6] = 99; }
static void bad_flags(uint8_t *b) { b[8] = 0x40; }
static void bad_flags_view_opts(uint8_t *b) { b[8] = IPC_FLAG_JSON | IPC_FLAG_COLOR; }
static void good_flags_view(uint8_t *b) { b[8] = IPC_FLAG_VIEW | IPC_FLAG_JSON; }
static void bad_flags_msb(uint8_t *b) { b[11] = 0x80; }
static void layer_past_table(uint8_t *b) { b[12] = (uint8_t)(1u << jefe_layers_count); }
static void layer_top_bit(uint8_t *b) { b[15] = 0x80; }
static void layer_all_named(uint8_t *b) { b[12] = (uint8_t)((1u << jefe_layers_count) - 1); }
static void layer_empty(uint8_t *b) { b[12] = 0; }

static void test_request_decode_errors(void **unused)
{
	const size_t n = IPC_REQUEST_SIZE;

	assert_int_equal(decode_with(NULL, n), 0);
	/* Length is checked first: nothing else is read from a short message. */
	assert_int_equal(decode_with(NULL, 0), -JEFE_EPROTO);
	assert_int_equal(decode_with(NULL, n - 1), -JEFE_EPROTO);
	assert_int_equal(decode_with(NULL, n + 1), -JEFE_EPROTO);
	assert_int_equal(decode_with(NULL, 2 * n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_version, n - 1), -JEFE_EPROTO);
	/* Then the magic, then the version. */
	assert_int_equal(decode_with(bad_magic, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_magic_and_version, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_version, n), -JEFE_EVERSION);
	assert_int_equal(decode_with(bad_version_high, n), -JEFE_EVERSION);
	assert_int_equal(decode_with(bad_version_2, n), -JEFE_EVERSION);
	/* Another version's command numbers mean nothing to us. */
	assert_int_equal(decode_with(bad_version_and_command, n), -JEFE_EVERSION);
	/* Then command, flags and layer. */
	assert_int_equal(decode_with(bad_command_zero, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_command_high, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_command_msb, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_flags, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_flags_msb, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(bad_flags_view_opts, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(good_flags_view, n), 0);
	assert_int_equal(decode_with(layer_past_table, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(layer_top_bit, n), -JEFE_EPROTO);
	assert_int_equal(decode_with(layer_all_named, n), 0);
	assert_int_equal(decode_with(layer_empty, n), 0);
}

/* Each refusal names the field and its value: the daemon logs it and says it to the peer. */
static void test_request_decode_why(void **unused)
{
	static const struct {
		void (*mutate)(uint8_t *buf);
		size_t len;
		const char *why;
	} cases[] = {
		{ NULL, IPC_REQUEST_SIZE - 1, "request of 15 bytes, expected 16" },
		{ bad_magic, IPC_REQUEST_SIZE, "magic 0x4a454644, expected 0x4a454645" },
		{ bad_version_2, IPC_REQUEST_SIZE, "protocol version 2, expected 3" },
		{ bad_command_zero, IPC_REQUEST_SIZE, "command 0 unknown" },
		{ bad_flags, IPC_REQUEST_SIZE, "flags 0x40: unknown bits 0x40" },
		{ bad_flags_view_opts, IPC_REQUEST_SIZE,
		  "flags 0x28: view options (0x38) without the view flag (0x4)" },
		{ layer_top_bit, IPC_REQUEST_SIZE, "layers 0x80000001: bits 0x80000000 name no layer" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[IPC_REQUEST_SIZE];
		struct ipc_request out;
		char why[160] = "";

		encode_ok(IPC_CMD_STATUS, 0, LAYER_BIT(0), buf);
		if (cases[i].mutate)
			cases[i].mutate(buf);
		assert_true(ipc_request_decode_why(buf, cases[i].len, &out, why, sizeof(why)) < 0);
		if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
			fail_msg("case %zu: '%s', expected '%s...'", i, why, cases[i].why);
	}
}

static void test_reply_header_round_trip(void **unused)
{
	static const struct ipc_reply_header cases[] = {
		{ 0, 0, 0, 0 },
		{ 0, 1234567, 0, 0 },
		{ 0, IPC_MAX_PAYLOAD, 0, 0 },
		{ -EPERM, 0, 0, 0 },
		{ -JEFE_EPROTO, 12, 0, 0 },
		{ -JEFE_EVERSION, 0, 0, 0 },
		/* A view's exit code: compliant, error, drift. */
		{ 0, 900, 0, 0 },
		{ 0, 900, 1, 0 },
		{ 0, 900, 2, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[IPC_REPLY_HEADER_SIZE];
		struct ipc_reply_header h;

		assert_int_equal(ipc_reply_header_encode(&cases[i], buf, sizeof(buf)),
				 IPC_REPLY_HEADER_SIZE);
		assert_int_equal(ipc_reply_header_decode(buf, sizeof(buf), &h), 0);
		assert_int_equal(h.status, cases[i].status);
		assert_int_equal(h.length, cases[i].length);
		assert_int_equal(h.exit_code, cases[i].exit_code);
		assert_int_equal(h.version, IPC_VERSION);
	}
}

static void test_reply_header_errors(void **unused)
{
	struct ipc_reply_header h = { .status = -EPERM, .length = 5 }, out;
	uint8_t buf[IPC_REPLY_HEADER_SIZE + 4], b2[IPC_REPLY_HEADER_SIZE + 4];
	char why[128];
	static const uint8_t want[IPC_REPLY_HEADER_SIZE] = {
		0x45, 0x46, 0x45, 0x4a, 0x03, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff,	/* -1: -EPERM */
		0x05, 0x00, 0x00, 0x00,
	};

	assert_int_equal(ipc_reply_header_encode(&h, buf, IPC_REPLY_HEADER_SIZE - 1), -ENOBUFS);
	assert_int_equal(ipc_reply_header_encode(&h, buf, sizeof(buf)), IPC_REPLY_HEADER_SIZE);
	assert_memory_equal(buf, want, sizeof(want));
	h.length = IPC_MAX_PAYLOAD + 1;
	assert_int_equal(ipc_reply_header_encode(&h, b2, sizeof(b2)), -EMSGSIZE);

	assert_int_equal(ipc_reply_header_decode(buf, IPC_REPLY_HEADER_SIZE - 1, &out), -JEFE_EPROTO);
	assert_int_equal(ipc_reply_header_decode(buf, IPC_REPLY_HEADER_SIZE + 1, &out), -JEFE_EPROTO);
	memcpy(b2, buf, sizeof(buf));
	b2[1] = 0;
	assert_int_equal(ipc_reply_header_decode(b2, IPC_REPLY_HEADER_SIZE, &out), -JEFE_EPROTO);
	memcpy(b2, buf, sizeof(buf));
	b2[4] = 2;
	assert_int_equal(ipc_reply_header_decode_why(b2, IPC_REPLY_HEADER_SIZE, &out, why,
						     sizeof(why)), -JEFE_EVERSION);
	/* An older daemon: the client can say which version it speaks. */
	assert_int_equal(out.version, 2);
	assert_string_equal(why, "protocol version 2, expected 3");
	/* An exit code no view has, or one beside an error status. */
	memcpy(b2, buf, sizeof(buf));
	b2[6] = 3;
	b2[8] = b2[9] = b2[10] = b2[11] = 0;
	assert_int_equal(ipc_reply_header_decode_why(b2, IPC_REPLY_HEADER_SIZE, &out, why,
						     sizeof(why)), -JEFE_EPROTO);
	assert_string_equal(why, "exit code 3, expected 0, 1 or 2 (0 with an error status)");
	memcpy(b2, buf, sizeof(buf));
	b2[6] = 2;
	assert_int_equal(ipc_reply_header_decode(b2, IPC_REPLY_HEADER_SIZE, &out), -JEFE_EPROTO);
	h.length = 5;
	h.exit_code = 3;
	assert_int_equal(ipc_reply_header_encode(&h, b2, sizeof(b2)), -EINVAL);
	/* A payload longer than any reply may be. */
	memcpy(b2, buf, sizeof(buf));
	b2[15] = 0x10;
	assert_int_equal(ipc_reply_header_decode(b2, IPC_REPLY_HEADER_SIZE, &out), -JEFE_EPROTO);
	/* A positive status is not a status. */
	memcpy(b2, buf, sizeof(buf));
	b2[8] = 1; b2[9] = 0; b2[10] = 0; b2[11] = 0;
	assert_int_equal(ipc_reply_header_decode_why(b2, IPC_REPLY_HEADER_SIZE, &out, why,
						     sizeof(why)), -JEFE_EPROTO);
	assert_string_equal(why, "status 1, expected 0 or negative");
}

/* ---- sockets: listen, connect, a real exchange ---- */

struct sockdir {
	char dir[64];
	char path[128];
};

static int sockdir_setup(void **state)
{
	struct sockdir *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->dir, sizeof(s->dir), "/tmp/jefe-ipc-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/run/jefe/jefe.sock", s->dir);
	*state = s;
	return 0;
}

static int sockdir_teardown(void **state)
{
	struct sockdir *s = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		return -1;
	free(s);
	return 0;
}

static void test_listen_stale_and_busy(void **state)
{
	struct sockdir *s = *state;
	struct stat st;
	char file[160];
	int fd, fd2, cfd;

	/* Parent directories are made; the socket gets the mode asked for. */
	assert_int_equal(ipc_listen(s->path, 0600, -1, &fd), 0);
	assert_int_equal(stat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	/* A live daemon on the socket is never unlinked from under it. */
	assert_int_equal(ipc_listen(s->path, 0600, -1, &fd2), -EADDRINUSE);
	assert_int_equal(ipc_connect(s->path, &cfd), 0);
	close(cfd);

	/* A dead one's socket file is stale: connect is refused, listen takes it over. */
	close(fd);
	assert_int_equal(ipc_connect(s->path, &cfd), -ECONNREFUSED);
	assert_int_equal(ipc_listen(s->path, 0660, -1, &fd), 0);
	assert_int_equal(stat(s->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	close(fd);
	unlink(s->path);
	assert_int_equal(ipc_connect(s->path, &cfd), -ENOENT);

	/* Something that is not a socket is left alone. */
	snprintf(file, sizeof(file), "%s/plain", s->dir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ipc_listen(file, 0600, -1, &fd2), -EEXIST);
}

/*
 * A forked server answers one request: with a payload of `len` bytes, or
 * (truncate) with a header announcing more than it sends.
 */
static pid_t serve_once(int lfd, size_t len, bool truncate)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t buf[IPC_REQUEST_SIZE];
		struct ipc_request req;
		char *p = malloc(len + 1);
		int fd, flags;
		ssize_t n;

		/* The listener is non-blocking; wait for the client plainly here. */
		flags = fcntl(lfd, F_GETFL);
		fcntl(lfd, F_SETFL, flags & ~O_NONBLOCK);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 || p == NULL)
			_exit(10);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n != IPC_REQUEST_SIZE || ipc_request_decode(buf, (size_t)n, &req) != 0)
			_exit(11);
		for (size_t i = 0; i < len; i++)
			p[i] = (char)('a' + (i * 7 + req.command) % 26);
		if (truncate) {
			uint8_t h[IPC_REPLY_HEADER_SIZE];
			struct ipc_reply_header rh = { .length = (uint32_t)len };

			ipc_reply_header_encode(&rh, h, sizeof(h));
			send(fd, h, sizeof(h), MSG_NOSIGNAL);
			send(fd, p, len / 2, MSG_NOSIGNAL);
			_exit(0);
		}
		_exit(ipc_send_reply(fd, 0, p, len) == 0 ? 0 : 12);
	}
	return pid;
}

static void test_call_multi_chunk(void **state)
{
	struct sockdir *s = *state;
	/* Three full chunks and a partial one. */
	const size_t len = 3 * IPC_CHUNK + 1000;
	struct ipc_request req = { .command = IPC_CMD_ENFORCE };
	int32_t status = 99;
	char *payload = NULL;
	size_t got = 0;
	int lfd, fd, st;
	pid_t pid;

	assert_int_equal(ipc_listen(s->path, 0600, -1, &lfd), 0);
	pid = serve_once(lfd, len, false);
	assert_int_equal(ipc_connect(s->path, &fd), 0);
	assert_int_equal(ipc_call(fd, &req, &status, &payload, &got), 0);
	assert_int_equal(status, 0);
	assert_int_equal(got, len);
	assert_int_equal(strlen(payload), len);
	for (size_t i = 0; i < len; i++)
		if (payload[i] != (char)('a' + (i * 7 + IPC_CMD_ENFORCE) % 26))
			fail_msg("payload byte %zu differs", i);
	free(payload);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* The server dies half-way: the client sees it, with no payload. */
	pid = serve_once(lfd, 5000, true);
	assert_int_equal(ipc_connect(s->path, &fd), 0);
	payload = NULL;
	assert_int_equal(ipc_call(fd, &req, &status, &payload, &got), -ECONNRESET);
	assert_null(payload);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(lfd);
}

/*
 * A client that never reads its reply must not hold the daemon: the reply
 * gives up after about 2 s with -ETIMEDOUT, on a blocking socket too.
 */
static void test_send_reply_gives_up(void **unused)
{
	const size_t len = 4u << 20;
	char *p = calloc(1, len);
	int sv[2];
	long long t0, dt;

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	t0 = clock_ms();
	assert_int_equal(ipc_send_reply(sv[0], 0, p, len), -ETIMEDOUT);
	dt = clock_ms() - t0;
	assert_true(dt >= 1500 && dt < 5000);
	close(sv[0]);
	close(sv[1]);
	free(p);
}

/*
 * A reply sent from pieces (the daemon's JSON view: json-c's text and a
 * newline) arrives as their concatenation, in messages of at most
 * IPC_CHUNK bytes, with the exit code in the header.
 */
static void test_send_reply_pieces(void **unused)
{
	static const size_t sizes[] = { 70000, 1, 0, IPC_CHUNK - 1, 3, 2 * IPC_CHUNK + 5 };
	struct iovec pieces[sizeof(sizes) / sizeof(sizes[0])];
	size_t total = 0, got = 0;
	uint8_t hbuf[IPC_REPLY_HEADER_SIZE];
	struct ipc_reply_header h;
	char *want, *have;
	int sv[2], st;
	pid_t pid;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		total += sizes[i];
	want = malloc(total);
	have = malloc(total + IPC_CHUNK);
	assert_non_null(want);
	assert_non_null(have);
	for (size_t i = 0, off = 0; i < ARRAY_SIZE(sizes); off += sizes[i], i++) {
		for (size_t k = 0; k < sizes[i]; k++)
			want[off + k] = (char)('a' + (off + k) % 23 + i);
		pieces[i] = (struct iovec){ .iov_base = want + off, .iov_len = sizes[i] };
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		_exit(ipc_send_reply_pieces(sv[0], 0, 2, pieces, ARRAY_SIZE(sizes)) == 0 ? 0 : 1);
	}
	close(sv[0]);
	assert_int_equal(recv(sv[1], hbuf, sizeof(hbuf), 0), IPC_REPLY_HEADER_SIZE);
	assert_int_equal(ipc_reply_header_decode(hbuf, sizeof(hbuf), &h), 0);
	assert_int_equal(h.length, total);
	assert_int_equal(h.exit_code, 2);
	while (got < total) {
		ssize_t n = recv(sv[1], have + got, IPC_CHUNK + 1, MSG_TRUNC);

		assert_true(n > 0 && n <= IPC_CHUNK);
		got += (size_t)n;
	}
	assert_int_equal(got, total);
	assert_memory_equal(have, want, total);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[1]);
	free(want);
	free(have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_wire_bytes),
		cmocka_unit_test(test_request_encode_refuses),
		cmocka_unit_test(test_request_decode_errors),
		cmocka_unit_test(test_request_decode_why),
		cmocka_unit_test(test_reply_header_round_trip),
		cmocka_unit_test(test_reply_header_errors),
		cmocka_unit_test_setup_teardown(test_listen_stale_and_busy, sockdir_setup,
						sockdir_teardown),
		cmocka_unit_test_setup_teardown(test_call_multi_chunk, sockdir_setup,
						sockdir_teardown),
		cmocka_unit_test(test_send_reply_gives_up),
		cmocka_unit_test(test_send_reply_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
