// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * map09: two paths of one map checked through the 0.9 (plugin ABI A)
 * emc_clariion checker, linked in with its glue and runner, on simulated
 * SG_IO, the way multipathd 0.9.4 drives it: libcheck_init(), then
 * c->mpcontext pointed at the map's slot and libcheck_mp_init() called while
 * the slot is NULL;
 * libcheck_check() until it is no longer PATH_PENDING; at the end
 * libcheck_free() and free() of the slot (free_multipath()). One JSON line
 * per check: the path, the state and the map's long (-1: unset; "none": no
 * slot allocated).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "async_checker.h"
#include "checkers.h"
#include "debug.h"
#include "sgsim.h"

int libmp_verbosity = 0;

void dlog(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int checker_is_sync(const struct checker *c)
{
	(void)c;
	return 0;
}

/* struct multipath's mpcontext */
static void *map_slot;

static void page(unsigned char *b, int lun)
{
	int i;

	memset(b, 0, 128);
	b[1] = 0xc0;
	b[3] = 124;
	b[4] = lun;
	for (i = 0; i < 16; i++)
		b[10 + i] = 0x60 + i;
	b[27] = 0x03;
	b[28] = 0x04;
	b[30] = 0x04;
}

static void push_page(int lun)
{
	unsigned char b[128];
	struct sgsim_answer a = { .sb_len_wr = 0 };

	page(b, lun);
	a.data = b;
	a.data_len = sizeof(b);
	sgsim_push(&a);
}

static void push_read(int snapshot)
{
	struct sgsim_answer a = { .sb_len_wr = 0 };

	if (snapshot) {
		a.status = 0x02;
		a.driver_status = 0x08;
		a.info = 1;
		a.sense_len = a.sb_len_wr = 18;
		a.sense[0] = 0x70;
		a.sense[2] = 0x05;
		a.sense[7] = 10;
		a.sense[12] = 0x25;
		a.sense[13] = 0x01;
	}
	sgsim_push(&a);
}

static void setup(struct checker *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout = 30;
	if (libcheck_init(c)) {
		fprintf(stderr, "libcheck_init failed\n");
		exit(1);
	}
	/* checker_mp_init() of 0.9.4 */
	c->mpcontext = &map_slot;
	if (!map_slot && libcheck_mp_init(c))
		c->mpcontext = NULL;
}

static void check(const char *name, struct checker *c)
{
	int state;

	while ((state = libcheck_check(c)) == PATH_PENDING)
		usleep(100);
	printf("{\"path\":\"%s\",\"state\":%d,\"msgid\":%d,\"mpc\":", name,
	       state, c->msgid);
	if (map_slot)
		printf("%ld}\n", ((union checker_mpcontext *)map_slot)->long_val);
	else
		printf("\"none\"}\n");
	fflush(stdout);
}

int main(void)
{
	struct checker active, passive;
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0)
		return 1;
	setup(&active, fd);
	setup(&passive, fd);
	push_page(1);
	check("passive", &passive);
	push_page(2);
	push_read(1);
	check("active", &active);
	push_page(1);
	check("passive", &passive);
	push_page(2);
	push_read(0);
	check("active", &active);
	push_page(1);
	check("passive", &passive);
	libcheck_free(&active);
	libcheck_free(&passive);
	free(map_slot);
	close(fd);
	return 0;
}
