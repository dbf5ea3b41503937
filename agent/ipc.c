/* SPDX-License-Identifier: MIT */
/*
 * The socket between `jefe` and `jefe-setup` (see ipc.h for the wire
 * format).  As in chrony's cmdmon, a request is checked for its length
 * first, then the magic, then the version, and only then is any other
 * field looked at: a peer of another version gets -JEFE_EVERSION rather
 * than a confusing "bad command".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "ipc.h"
#include "layer.h"
#include "util.h"

/*
 * How long `jefe` waits for each message of a reply.  An enforce of every
 * layer (a firewall batch, audit rules) takes well under a second; a
 * daemon that says nothing for this long is wedged and the CLI says so
 * instead of hanging.
 */
#define IPC_CLIENT_TIMEOUT_MS	30000
/*
 * How long the daemon spends on sending one reply.  A client that does not
 * read its reply must not stall the loop that repairs drift.
 */
#define IPC_SEND_TIMEOUT_MS	2000

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool ipc_command_valid(uint16_t command)
{
	return command == IPC_CMD_STATUS || command == IPC_CMD_ENFORCE ||
	       command == IPC_CMD_RELOAD;
}

/* Say why a message was refused, when the caller asked (why != NULL). */
static int ipc_refuse(int rc, char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int ipc_refuse(int rc, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A request's flags make sense together: the view's options only with a view. */
static bool ipc_flags_valid(uint32_t flags)
{
	if ((flags & ~IPC_FLAGS_KNOWN) != 0)
		return false;
	return (flags & IPC_FLAGS_VIEW_OPTS) == 0 || (flags & IPC_FLAG_VIEW) != 0;
}

int ipc_request_encode(const struct ipc_request *req, uint8_t *buf, size_t size)
{
	if (size < IPC_REQUEST_SIZE)
		return -ENOBUFS;
	/* Refuse to send what the daemon would refuse anyway. */
	if (!ipc_command_valid(req->command) || !ipc_flags_valid(req->flags) ||
	    (req->layers & ~layer_mask_valid()) != 0)
		return -EINVAL;

	put_le32(buf, IPC_MAGIC);
	put_le16(buf + 4, IPC_VERSION);
	put_le16(buf + 6, req->command);
	put_le32(buf + 8, req->flags);
	put_le32(buf + 12, req->layers);
	return IPC_REQUEST_SIZE;
}

int ipc_request_decode_why(const uint8_t *buf, size_t len, struct ipc_request *req,
			   char *why, size_t why_size)
{
	struct ipc_request r;

	if (len != IPC_REQUEST_SIZE)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "request of %zu bytes, expected %d",
				  len, IPC_REQUEST_SIZE);
	if (get_le32(buf) != IPC_MAGIC)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "magic 0x%08x, expected 0x%08x",
				  get_le32(buf), IPC_MAGIC);
	if (get_le16(buf + 4) != IPC_VERSION)
		return ipc_refuse(-JEFE_EVERSION, why, why_size, "protocol version %u, expected %d",
				  (unsigned int)get_le16(buf + 4), IPC_VERSION);

	memset(&r, 0, sizeof(r));
	r.command = get_le16(buf + 6);
	r.flags = get_le32(buf + 8);
	r.layers = get_le32(buf + 12);
	if (!ipc_command_valid(r.command))
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "command %u unknown",
				  (unsigned int)r.command);
	if ((r.flags & ~IPC_FLAGS_KNOWN) != 0)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "flags 0x%x: unknown bits 0x%x",
				  r.flags, r.flags & ~IPC_FLAGS_KNOWN);
	if (!ipc_flags_valid(r.flags))
		return ipc_refuse(-JEFE_EPROTO, why, why_size,
				  "flags 0x%x: view options (0x%x) without the view flag (0x%x)",
				  r.flags, IPC_FLAGS_VIEW_OPTS, IPC_FLAG_VIEW);
	/* A bit beyond the table: a layer this daemon does not have. */
	if ((r.layers & ~layer_mask_valid()) != 0)
		return ipc_refuse(-JEFE_EPROTO, why, why_size,
				  "layers 0x%x: bits 0x%x name no layer of this daemon",
				  r.layers, r.layers & ~layer_mask_valid());
	*req = r;
	return 0;
}

int ipc_request_decode(const uint8_t *buf, size_t len, struct ipc_request *req)
{
	return ipc_request_decode_why(buf, len, req, NULL, 0);
}

int ipc_reply_header_encode(const struct ipc_reply_header *h, uint8_t *buf, size_t size)
{
	if (size < IPC_REPLY_HEADER_SIZE)
		return -ENOBUFS;
	if (h->length > IPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (h->exit_code > 2)
		return -EINVAL;
	put_le32(buf, IPC_MAGIC);
	put_le16(buf + 4, IPC_VERSION);
	put_le16(buf + 6, h->exit_code);
	put_le32(buf + 8, (uint32_t)h->status);
	put_le32(buf + 12, h->length);
	return IPC_REPLY_HEADER_SIZE;
}

int ipc_reply_header_decode_why(const uint8_t *buf, size_t len, struct ipc_reply_header *h,
				char *why, size_t why_size)
{
	struct ipc_reply_header r;

	if (len != IPC_REPLY_HEADER_SIZE)
		return ipc_refuse(-JEFE_EPROTO, why, why_size,
				  "reply header of %zu bytes, expected %d", len, IPC_REPLY_HEADER_SIZE);
	if (get_le32(buf) != IPC_MAGIC)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "magic 0x%08x, expected 0x%08x",
				  get_le32(buf), IPC_MAGIC);
	r.version = get_le16(buf + 4);
	if (r.version != IPC_VERSION) {
		/* Only the version is meant: a caller may say which the peer speaks. */
		h->version = r.version;
		return ipc_refuse(-JEFE_EVERSION, why, why_size, "protocol version %u, expected %d",
				  (unsigned int)r.version, IPC_VERSION);
	}
	r.exit_code = get_le16(buf + 6);
	r.status = (int32_t)get_le32(buf + 8);
	r.length = get_le32(buf + 12);
	/* A status is 0 or a negative code; a positive one is garbage. */
	if (r.status > 0)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "status %ld, expected 0 or negative",
				  (long)r.status);
	if (r.length > IPC_MAX_PAYLOAD)
		return ipc_refuse(-JEFE_EPROTO, why, why_size, "length %lu, at most %u",
				  (unsigned long)r.length, IPC_MAX_PAYLOAD);
	if (r.exit_code > 2 || (r.exit_code != 0 && r.status != 0))
		return ipc_refuse(-JEFE_EPROTO, why, why_size,
				  "exit code %u, expected 0, 1 or 2 (0 with an error status)",
				  (unsigned int)r.exit_code);
	*h = r;
	return 0;
}

int ipc_reply_header_decode(const uint8_t *buf, size_t len, struct ipc_reply_header *h)
{
	return ipc_reply_header_decode_why(buf, len, h, NULL, 0);
}

static int ipc_sockaddr(const char *path, struct sockaddr_un *sun)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	return 0;
}

static int ipc_set_timeout(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

int ipc_connect(const char *path, int *fd_out)
{
	struct sockaddr_un sun;
	int fd, rc;

	rc = ipc_sockaddr(path, &sun);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((rc = ipc_set_timeout(fd, SO_RCVTIMEO, IPC_CLIENT_TIMEOUT_MS)) < 0 ||
	    (rc = ipc_set_timeout(fd, SO_SNDTIMEO, IPC_CLIENT_TIMEOUT_MS)) < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

/*
 * Receive one message of at most `size` bytes.  MSG_TRUNC makes recv
 * return the real length of the message, so a message longer than
 * expected is seen as such instead of being silently cut.
 */
static ssize_t ipc_recv_msg(int fd, void *buf, size_t size)
{
	ssize_t n;

	do
		n = recv(fd, buf, size, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
	if (n == 0)
		return -ECONNRESET;	/* the daemon closed without a reply */
	if ((size_t)n > size)
		return -JEFE_EPROTO;
	return n;
}

int ipc_call_ex(int fd, const struct ipc_request *req, struct ipc_reply_header *h,
		char **payload, size_t *len, char *why, size_t why_size)
{
	uint8_t msg[IPC_REQUEST_SIZE];
	uint8_t hbuf[IPC_REPLY_HEADER_SIZE];
	size_t got = 0;
	char *p;
	ssize_t n;
	int rc;

	if (why != NULL && why_size > 0)
		why[0] = '\0';
	rc = ipc_request_encode(req, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	do
		n = send(fd, msg, sizeof(msg), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
	if ((size_t)n != sizeof(msg))
		return -EIO;

	n = ipc_recv_msg(fd, hbuf, sizeof(hbuf));
	if (n == -JEFE_EPROTO)
		return ipc_refuse(-JEFE_EPROTO, why, why_size,
				  "reply header longer than %d bytes", IPC_REPLY_HEADER_SIZE);
	if (n < 0)
		return (int)n;
	rc = ipc_reply_header_decode_why(hbuf, (size_t)n, h, why, why_size);
	if (rc < 0)
		return rc;

	p = malloc((size_t)h->length + 1);
	if (p == NULL)
		return -ENOMEM;
	while (got < h->length) {
		size_t want = h->length - got;

		if (want > IPC_CHUNK)
			want = IPC_CHUNK;
		n = ipc_recv_msg(fd, p + got, want);
		if (n < 0) {
			free(p);
			if (n == -JEFE_EPROTO)
				return ipc_refuse(-JEFE_EPROTO, why, why_size,
						  "payload message longer than the %zu bytes left of length %lu",
						  want, (unsigned long)h->length);
			return (int)n;
		}
		got += (size_t)n;
	}
	p[got] = '\0';
	*payload = p;
	if (len != NULL)
		*len = got;
	return 0;
}

int ipc_call(int fd, const struct ipc_request *req, int32_t *status, char **payload,
	     size_t *len)
{
	struct ipc_reply_header h = { 0 };
	int rc = ipc_call_ex(fd, req, &h, payload, len, NULL, 0);

	if (rc == 0)
		*status = h.status;
	return rc;
}

/* mkdir -p of the directory part of path, host paths (the socket lives outside any root fd). */
static int ipc_mkdir_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *slash;
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *s = dir + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/*
 * A socket file left by a daemon that died is removed; one that a live
 * daemon answers on is not (two daemons would fight over the same host).
 */
static int ipc_remove_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (rc == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return -rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int ipc_listen(const char *path, unsigned int mode, int gid, int *fd_out)
{
	struct sockaddr_un sun;
	int fd, rc;

	rc = ipc_sockaddr(path, &sun);
	if (rc < 0)
		return rc;
	rc = ipc_mkdir_parent(path, 0755);
	if (rc < 0)
		return rc;
	rc = ipc_remove_stale(path, &sun);
	if (rc < 0)
		return rc;

	/* Non-blocking: the daemon's epoll loop accepts, it never waits in accept(). */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (chmod(path, mode) < 0 ||
	    (gid != -1 && chown(path, (uid_t)-1, (gid_t)gid) < 0) ||
	    listen(fd, 64) < 0) {
		rc = -errno;
		unlink(path);
		goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

/*
 * Send one message made of iov[0..n), waiting for room at most until
 * deadline (monotonic ms).  Works on blocking and non-blocking sockets
 * alike.
 */
static int ipc_send_msgv(int fd, struct iovec *iov, size_t n, size_t len, long long deadline)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };

	for (;;) {
		ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		long long left;

		if (sent >= 0)
			return (size_t)sent == len ? 0 : -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		left = deadline - clock_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

static int ipc_send_msg(int fd, const void *buf, size_t len, long long deadline)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return ipc_send_msgv(fd, &iov, 1, len, deadline);
}

/*
 * The payload is the pieces one after the other, cut into messages of
 * IPC_CHUNK bytes wherever the pieces end: a reply is sent from the
 * texts it is made of, never copied into one buffer first (a large
 * buffer made and freed per request costs its pages again each time).
 */
int ipc_send_reply_pieces(int fd, int32_t status, uint16_t exit_code,
			  const struct iovec *pieces, size_t n_pieces)
{
	uint8_t hbuf[IPC_REPLY_HEADER_SIZE];
	struct ipc_reply_header h = { .status = status, .exit_code = exit_code };
	long long deadline = clock_ms() + IPC_SEND_TIMEOUT_MS;
	size_t total = 0, piece = 0, off = 0;
	int rc;

	for (size_t i = 0; i < n_pieces; i++) {
		if (pieces[i].iov_len > IPC_MAX_PAYLOAD - total)
			return -EMSGSIZE;
		total += pieces[i].iov_len;
	}
	h.length = (uint32_t)total;
	rc = ipc_reply_header_encode(&h, hbuf, sizeof(hbuf));
	if (rc < 0)
		return rc;
	rc = ipc_send_msg(fd, hbuf, sizeof(hbuf), deadline);
	while (rc == 0 && total > 0) {
		struct iovec iov[8];
		size_t n = 0, len = 0;

		/* Up to IPC_CHUNK bytes from the pieces left, in at most 8 slices. */
		while (len < IPC_CHUNK && piece < n_pieces && n < ARRAY_SIZE(iov)) {
			size_t take = pieces[piece].iov_len - off;

			if (take > IPC_CHUNK - len)
				take = IPC_CHUNK - len;
			if (take > 0)
				iov[n++] = (struct iovec){
					.iov_base = (char *)pieces[piece].iov_base + off, .iov_len = take };
			len += take;
			off += take;
			if (off == pieces[piece].iov_len) {
				piece++;
				off = 0;
			}
		}
		rc = ipc_send_msgv(fd, iov, n, len, deadline);
		total -= len;
	}
	return rc;
}

int ipc_send_reply(int fd, int32_t status, const char *payload, size_t len)
{
	struct iovec piece = { .iov_base = (void *)payload, .iov_len = len };

	if (len > IPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	return ipc_send_reply_pieces(fd, status, 0, &piece, len > 0 ? 1 : 0);
}
