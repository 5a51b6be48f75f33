/*
 * mpcli: a minimal multipathd CLI client for polling in the VM.
 *
 *   mpcli [-t TIMEOUT_MS] WORD...
 *
 * Sends the words, joined by blanks (a word with a blank goes in double
 * quotes, as multipathd's own client does), to multipathd's socket, the
 * abstract unix socket "@/org/kernel/linux/storage/multipathd" (a size_t
 * length, then the command with its NUL), and prints the answer (same
 * framing). Unlike
 * `multipathd CMD`, it loads no library and reads no configuration, so its
 * time is the daemon's answer time. Exit status: 0 answered, 1 no daemon or
 * a socket error, 2 no answer within TIMEOUT_MS (default 10000), 3 the
 * daemon answered "timeout" or "fail".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_NAME "/org/kernel/linux/storage/multipathd"

static int io_all(int fd, void *buf, size_t len, int out, int tmo_ms)
{
	char *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		ssize_t n;
		int r = poll(&pf, 1, tmo_ms);

		if (r == 0)
			return -2;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_LOCAL };
	socklen_t alen;
	int tmo = 10000, i = 1, fd, r;
	size_t len = 0, rlen;
	char *cmd, *reply;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		tmo = atoi(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: mpcli [-t TIMEOUT_MS] WORD...\n");
		return 1;
	}
	for (int k = i; k < argc; k++)
		len += strlen(argv[k]) + 3;
	cmd = calloc(1, len + 1);
	if (!cmd)
		return 1;
	for (int k = i; k < argc; k++) {
		int quote = strchr(argv[k], ' ') != NULL;

		if (k > i)
			strcat(cmd, " ");
		if (quote)
			strcat(cmd, "\"");
		strcat(cmd, argv[k]);
		if (quote)
			strcat(cmd, "\"");
	}
	len = strlen(cmd) + 1;

	memcpy(&addr.sun_path[1], SOCKET_NAME, strlen(SOCKET_NAME));
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(SOCKET_NAME));
	fd = socket(AF_LOCAL, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, alen) < 0) {
		fprintf(stderr, "mpcli: cannot connect to multipathd: %s\n",
			strerror(errno));
		return 1;
	}
	r = io_all(fd, &len, sizeof(len), 1, tmo);
	if (!r)
		r = io_all(fd, cmd, len, 1, tmo);
	if (!r)
		r = io_all(fd, &rlen, sizeof(rlen), 0, tmo);
	if (!r && rlen > 64 * 1024 * 1024)
		r = -1;
	reply = r ? NULL : calloc(1, rlen + 1);
	if (!r && !reply)
		r = -1;
	if (!r)
		r = io_all(fd, reply, rlen, 0, tmo);
	close(fd);
	if (r == -2) {
		fprintf(stderr, "mpcli: no answer within %d ms\n", tmo);
		return 2;
	}
	if (r) {
		fprintf(stderr, "mpcli: socket error: %s\n", strerror(errno));
		return 1;
	}
	fputs(reply, stdout);
	len = strlen(reply);
	if (len && reply[len - 1] != '\n')
		putchar('\n');
	if (!strncmp(reply, "timeout", 7) || !strncmp(reply, "fail", 4))
		return 3;
	return 0;
}
