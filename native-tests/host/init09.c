// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * A checker's init on plugin ABI A (multipath-tools 0.9.4 calls
 * libcheck_init with the path's fd open): the 0.9 plugin layout of one
 * checker linked into this program with simulated SG_IO. Each argument is
 * a case: answers as hex data ("-" for an ioctl EIO, "c" for CHECK
 * CONDITION, ILLEGAL REQUEST, "hXX" for host status XX), separated by ','. For each, libcheck_init()
 * runs on a struct checker with fd 42 and timeout 7, then libcheck_free();
 * one JSON line lists the commands the init sent, with the fd each was
 * sent on and the data-out bytes; what the init logs goes to stderr after
 * "case N".
 *
 * sgsim.c is built with __wrap_ioctl renamed sgsim_ioctl: the wrapper here
 * records the fd, then answers through it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers.h"
#include "debug.h"
#include "sgsim.h"

int sgsim_ioctl(int fd, unsigned long request, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);

static int fds[SGSIM_MAX_COMMANDS];
static int nfds;

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (nfds < SGSIM_MAX_COMMANDS)
		fds[nfds++] = fd;
	return sgsim_ioctl(fd, request, arg);
}

/* multipathd's; the init never asks */
int checker_is_sync(const struct checker *c)
{
	(void)c;
	return 1;
}

static void push(const char *a)
{
	struct sgsim_answer ans = { 0 };
	static unsigned char data[SGSIM_MAX_DATA];
	unsigned int n = 0;

	if (!strcmp(a, "-")) {
		ans.err = EIO;
	} else if (a[0] == 'h') {
		ans.host_status = strtoul(a + 1, NULL, 16);
		ans.info = 1;
	} else if (!strcmp(a, "c")) {
		ans.status = 0x02;
		ans.driver_status = 0x08;
		ans.info = 1;
		ans.sense_len = ans.sb_len_wr = 18;
		ans.sense[0] = 0x70;
		ans.sense[2] = 0x05;
		ans.sense[7] = 10;
	} else {
		while (a[2 * n] && a[2 * n + 1] && n < sizeof(data)) {
			unsigned int b;

			sscanf(a + 2 * n, "%2x", &b);
			data[n++] = b;
		}
		ans.data = data;
		ans.data_len = n;
	}
	sgsim_push(&ans);
}

int main(int argc, char **argv)
{
	static struct sgsim_command cmds[SGSIM_MAX_COMMANDS];
	int i, k, n;
	unsigned int j;

	libmp_verbosity = 3;
	for (i = 1; i < argc; i++) {
		struct checker c = { .fd = 42, .timeout = 7 };
		char *list = strdup(argv[i]), *save = NULL, *a;
		int ret;

		/* what the init logs (level 3) follows the case's marker */
		fprintf(stderr, "case %d\n", i - 1);
		sgsim_reset();
		nfds = 0;
		for (a = strtok_r(list, ",", &save); a;
		     a = strtok_r(NULL, ",", &save))
			push(a);
		free(list);
		ret = libcheck_init(&c);
		n = sgsim_commands(cmds, SGSIM_MAX_COMMANDS);
		printf("{\"ret\":%d,\"unanswered\":%d,\"commands\":[", ret,
		       sgsim_queued());
		for (k = 0; k < n; k++) {
			printf("%s{\"fd\":%d,\"timeoutMs\":%u,\"dir\":%d,\"len\":%u,\"cdb\":\"",
			       k ? "," : "", k < nfds ? fds[k] : -1,
			       cmds[k].timeout_ms, cmds[k].direction,
			       cmds[k].dxfer_len);
			for (j = 0; j < cmds[k].cdb_len; j++)
				printf("%02x", cmds[k].cdb[j]);
			printf("\",\"out\":\"");
			for (j = 0; j < cmds[k].out_len; j++)
				printf("%02x", cmds[k].out[j]);
			printf("\"}");
		}
		printf("]}\n");
		if (ret == 0)
			libcheck_free(&c);
	}
	return 0;
}
