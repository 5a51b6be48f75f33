// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Simulated SG_IO for checker plugins linked with -Wl,--wrap=ioctl: plays
 * back queued answers the way the kernel fills struct sg_io_hdr, and
 * records every command sent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <scsi/sg.h>

#include "sgsim.h"

#define SGSIM_MAX_QUEUE SGSIM_MAX_COMMANDS
#define SGSIM_MAX_RECORD SGSIM_MAX_COMMANDS

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released_cond = PTHREAD_COND_INITIALIZER;
static struct sgsim_answer queue[SGSIM_MAX_QUEUE];
static int queue_head, queue_len;
static struct sgsim_answer default_answer;
static bool has_default;
static struct sgsim_command record[SGSIM_MAX_RECORD];
static int record_len;
static int overruns;
static int hanging;
static bool released;

static void copy_answer(struct sgsim_answer *dst, const struct sgsim_answer *src)
{
	*dst = *src;
	dst->data = NULL;
	if (src->data_len) {
		dst->data = malloc(src->data_len);
		if (dst->data)
			memcpy(dst->data, src->data, src->data_len);
		else
			dst->data_len = 0;
	}
}

void sgsim_push(const struct sgsim_answer *ans)
{
	pthread_mutex_lock(&lock);
	if (queue_len == SGSIM_MAX_QUEUE) {
		/* never drop an answer: the check would see another device */
		fprintf(stderr, "sgsim: more than %d answers queued\n",
			SGSIM_MAX_QUEUE);
		abort();
	}
	copy_answer(&queue[(queue_head + queue_len) % SGSIM_MAX_QUEUE], ans);
	queue_len++;
	pthread_mutex_unlock(&lock);
}

void sgsim_set_default(const struct sgsim_answer *ans)
{
	pthread_mutex_lock(&lock);
	free(default_answer.data);
	memset(&default_answer, 0, sizeof(default_answer));
	has_default = ans != NULL;
	if (ans)
		copy_answer(&default_answer, ans);
	pthread_mutex_unlock(&lock);
}

int sgsim_queued(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = queue_len;
	pthread_mutex_unlock(&lock);
	return n;
}

void sgsim_reset(void)
{
	pthread_mutex_lock(&lock);
	while (queue_len) {
		free(queue[queue_head].data);
		queue_head = (queue_head + 1) % SGSIM_MAX_QUEUE;
		queue_len--;
	}
	record_len = 0;
	overruns = 0;
	pthread_mutex_unlock(&lock);
}

int sgsim_commands(struct sgsim_command *out, int max)
{
	int n;

	pthread_mutex_lock(&lock);
	n = record_len < max ? record_len : max;
	memcpy(out, record, n * sizeof(*out));
	pthread_mutex_unlock(&lock);
	return n;
}

int sgsim_overruns(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = overruns;
	pthread_mutex_unlock(&lock);
	return n;
}

void sgsim_release_all(void)
{
	pthread_mutex_lock(&lock);
	released = true;
	pthread_cond_broadcast(&released_cond);
	pthread_mutex_unlock(&lock);
}

int sgsim_hanging(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = hanging;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Blocks like a command the device does not answer; lock is held */
static void hang(int ms)
{
	struct timespec until;

	hanging++;
	if (ms < 0) {
		while (!released)
			pthread_cond_wait(&released_cond, &lock);
	} else {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += ms / 1000;
		until.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!released &&
		       pthread_cond_timedwait(&released_cond, &lock, &until) !=
			       ETIMEDOUT)
			;
	}
	hanging--;
}

static int sg_io(struct sg_io_hdr *hdr)
{
	struct sgsim_answer ans;
	unsigned int n;
	bool have = false;
	int oldstate;

	/* like a real ioctl, this is no cancellation point (the condition
	 * wait of a hang would be one) */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	pthread_mutex_lock(&lock);
	if (record_len < SGSIM_MAX_RECORD) {
		struct sgsim_command *c = &record[record_len++];

		memset(c, 0, sizeof(*c));
		c->cdb_len = hdr->cmd_len < SGSIM_MAX_CDB ? hdr->cmd_len : SGSIM_MAX_CDB;
		memcpy(c->cdb, hdr->cmdp, c->cdb_len);
		c->direction = hdr->dxfer_direction;
		c->dxfer_len = hdr->dxfer_len;
		c->timeout_ms = hdr->timeout;
		c->mx_sb_len = hdr->mx_sb_len;
		if (hdr->dxfer_direction == SG_DXFER_TO_DEV && hdr->dxferp) {
			c->out_len = hdr->dxfer_len < SGSIM_MAX_OUT ?
					     hdr->dxfer_len :
					     SGSIM_MAX_OUT;
			memcpy(c->out, hdr->dxferp, c->out_len);
		}
	}
	if (queue_len) {
		ans = queue[queue_head];
		queue_head = (queue_head + 1) % SGSIM_MAX_QUEUE;
		queue_len--;
		have = true;
	} else if (has_default) {
		copy_answer(&ans, &default_answer);
		have = true;
	} else
		overruns++;
	if (have && ans.hang_ms != 0)
		hang(ans.hang_ms);
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(oldstate, NULL);
	if (!have) {
		errno = EIO;
		return -1;
	}
	if (ans.err) {
		free(ans.data);
		errno = ans.err;
		return -1;
	}
	hdr->status = ans.status;
	hdr->masked_status = (ans.status >> 1) & 0x7f;
	hdr->host_status = ans.host_status;
	hdr->driver_status = ans.driver_status;
	hdr->info = ans.info;
	hdr->duration = 0;
	n = ans.sense_len < hdr->mx_sb_len ? ans.sense_len : hdr->mx_sb_len;
	if (n && hdr->sbp)
		memcpy(hdr->sbp, ans.sense, n);
	hdr->sb_len_wr = ans.sb_len_wr;
	/* the kernel copies what the device sent; the rest is zeroed here so
	 * that a checker reading past the transfer reads something defined
	 * (data going to the device is left as the checker wrote it) */
	n = 0;
	if (hdr->dxferp && hdr->dxfer_len) {
		n = ans.data_len < hdr->dxfer_len ? ans.data_len : hdr->dxfer_len;
		if (hdr->dxfer_direction != SG_DXFER_TO_DEV) {
			if (n)
				memcpy(hdr->dxferp, ans.data, n);
			memset((unsigned char *)hdr->dxferp + n, 0,
			       hdr->dxfer_len - n);
		}
	}
	hdr->resid = ans.has_resid ? ans.resid : (int)(hdr->dxfer_len - n);
	free(ans.data);
	return 0;
}

int __wrap_ioctl(int fd, unsigned long request, ...);

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	(void)fd;
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request != SG_IO || !arg) {
		errno = ENOTTY;
		return -1;
	}
	return sg_io(arg);
}
