// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Simulated SG_IO for checker plugins linked with -Wl,--wrap=ioctl: plays
 * back queued answers the way the kernel fills struct sg_io_hdr, and
 * records every command sent. The same answers serve the cciss passthrough
 * (CCISS_PASSTHRU: the status is the SCSI status, the host status the
 * command status) and O_DIRECT reads (pread: errno, or resid bytes short,
 * or with info SG_INFO_CHECK and no resid, nothing read).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <sys/types.h>
#include <scsi/sg.h>
#include <linux/cciss_ioctl.h>

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

/* Records a command and takes its answer (false: none queued); lock is not held */
static bool take_answer(const struct sgsim_command *cmd,
			const unsigned char *out, struct sgsim_answer *ans)
{
	bool have = false;
	int oldstate;

	/* like a real ioctl, this is no cancellation point (the condition
	 * wait of a hang would be one) */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	pthread_mutex_lock(&lock);
	if (record_len < SGSIM_MAX_RECORD) {
		struct sgsim_command *c = &record[record_len++];

		*c = *cmd;
		if (out) {
			c->out_len = cmd->dxfer_len < SGSIM_MAX_OUT ? cmd->dxfer_len :
								      SGSIM_MAX_OUT;
			memcpy(c->out, out, c->out_len);
		}
	}
	if (queue_len) {
		*ans = queue[queue_head];
		queue_head = (queue_head + 1) % SGSIM_MAX_QUEUE;
		queue_len--;
		have = true;
	} else if (has_default) {
		copy_answer(ans, &default_answer);
		have = true;
	} else
		overruns++;
	if (have && ans->hang_ms != 0)
		hang(ans->hang_ms);
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(oldstate, NULL);
	return have;
}

/* Copies the answer's data into buf (len bytes) as a read does; the bytes
 * read, before any resid */
static unsigned int copy_in(const struct sgsim_answer *ans, void *buf,
			    unsigned int len)
{
	unsigned int n = ans->data_len < len ? ans->data_len : len;

	if (n)
		memcpy(buf, ans->data, n);
	memset((unsigned char *)buf + n, 0, len - n);
	return n;
}

static int sg_io(struct sg_io_hdr *hdr)
{
	struct sgsim_command cmd;
	struct sgsim_answer ans;
	unsigned int n;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb_len = hdr->cmd_len < SGSIM_MAX_CDB ? hdr->cmd_len : SGSIM_MAX_CDB;
	memcpy(cmd.cdb, hdr->cmdp, cmd.cdb_len);
	cmd.direction = hdr->dxfer_direction;
	cmd.dxfer_len = hdr->dxfer_len;
	cmd.timeout_ms = hdr->timeout;
	cmd.mx_sb_len = hdr->mx_sb_len;
	cmd.transport = 'S';
	if (!take_answer(&cmd,
			 hdr->dxfer_direction == SG_DXFER_TO_DEV && hdr->dxferp ?
				 hdr->dxferp :
				 NULL,
			 &ans)) {
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
		if (hdr->dxfer_direction != SG_DXFER_TO_DEV)
			n = copy_in(&ans, hdr->dxferp, hdr->dxfer_len);
		else
			n = ans.data_len < hdr->dxfer_len ? ans.data_len :
							    hdr->dxfer_len;
	}
	hdr->resid = ans.has_resid ? ans.resid : (int)(hdr->dxfer_len - n);
	free(ans.data);
	return 0;
}

static int cciss_lun_info(LogvolInfo_struct *lvi)
{
	memset(lvi, 0, sizeof(*lvi));
	lvi->LunID = SGSIM_CCISS_LUNID;
	lvi->num_opens = 1;
	return 0;
}

static int cciss_passthru(IOCTL_Command_struct *cic)
{
	static const int dirs[] = { SG_DXFER_NONE, SG_DXFER_TO_DEV,
				    SG_DXFER_FROM_DEV, SG_DXFER_NONE };
	struct sgsim_command cmd;
	struct sgsim_answer ans;
	unsigned int n = 0, len = cic->buf_size;
	int resid;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb_len = cic->Request.CDBLen < SGSIM_MAX_CDB ?
			      cic->Request.CDBLen :
			      SGSIM_MAX_CDB;
	memcpy(cmd.cdb, cic->Request.CDB, cmd.cdb_len);
	cmd.direction = dirs[cic->Request.Type.Direction & 3];
	cmd.dxfer_len = len;
	cmd.timeout_ms = cic->Request.Timeout * 1000u;
	cmd.transport = 'C';
	if (!take_answer(&cmd,
			 cic->Request.Type.Direction == XFER_WRITE && cic->buf ?
				 cic->buf :
				 NULL,
			 &ans)) {
		errno = EIO;
		return -1;
	}
	/* the controller refuses anything but the logical volume the fd is */
	if (cic->LUN_info.LogDev.Mode != 1 ||
	    cic->LUN_info.LogDev.VolId != (SGSIM_CCISS_LUNID & 0x3fffffff) ||
	    cic->Request.Type.Type != TYPE_CMD) {
		free(ans.data);
		errno = EINVAL;
		return -1;
	}
	if (ans.err) {
		free(ans.data);
		errno = ans.err;
		return -1;
	}
	memset(&cic->error_info, 0, sizeof(cic->error_info));
	cic->error_info.ScsiStatus = ans.status;
	cic->error_info.CommandStatus = ans.host_status;
	n = ans.sense_len < SENSEINFOBYTES ? ans.sense_len : SENSEINFOBYTES;
	memcpy(cic->error_info.SenseInfo, ans.sense, n);
	cic->error_info.SenseLen = n;
	n = 0;
	if (cic->buf && len) {
		if (cic->Request.Type.Direction == XFER_READ)
			n = copy_in(&ans, cic->buf, len);
		else
			n = ans.data_len < len ? ans.data_len : len;
	}
	resid = ans.has_resid ? ans.resid : (int)(len - n);
	cic->error_info.ResidualCnt = resid < 0 ? 0 : resid;
	free(ans.data);
	return 0;
}

/* The file status flags fcntl(F_SETFL) gave each fd */
#define SGSIM_MAX_FD 1024
static int fd_flags[SGSIM_MAX_FD];
static bool fd_flags_set[SGSIM_MAX_FD];

static ssize_t direct_pread(int fd, void *buf, size_t count, off_t offset)
{
	struct sgsim_command cmd;
	struct sgsim_answer ans;
	unsigned int n;
	bool direct;

	memset(&cmd, 0, sizeof(cmd));
	cmd.direction = SG_DXFER_FROM_DEV;
	cmd.dxfer_len = count;
	cmd.transport = 'R';
	cmd.offset = offset;
	if (!take_answer(&cmd, NULL, &ans)) {
		errno = EIO;
		return -1;
	}
	pthread_mutex_lock(&lock);
	direct = fd >= 0 && fd < SGSIM_MAX_FD && fd_flags_set[fd] &&
		 (fd_flags[fd] & O_DIRECT);
	pthread_mutex_unlock(&lock);
	/* O_DIRECT on a 4096-byte-block device: the buffer, the length and
	 * the offset aligned to 4096 */
	if (!direct || ((uintptr_t)buf & 4095) || (count & 4095) ||
	    (offset & 4095)) {
		free(ans.data);
		errno = EINVAL;
		return -1;
	}
	if (ans.err) {
		free(ans.data);
		errno = ans.err;
		return -1;
	}
	if (ans.has_resid)
		n = ans.resid <= 0 ? count :
		    (size_t)ans.resid < count ? count - ans.resid :
						0;
	else
		n = ans.info & SG_INFO_CHECK ? 0 : count;
	copy_in(&ans, buf, n);
	free(ans.data);
	return n;
}

ssize_t __wrap_pread(int fd, void *buf, size_t count, off_t offset);
ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl64(int fd, int cmd, ...);

ssize_t __wrap_pread(int fd, void *buf, size_t count, off_t offset)
{
	return direct_pread(fd, buf, count, offset);
}

ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset)
{
	return direct_pread(fd, buf, count, offset);
}

static int sim_fcntl(int fd, int cmd, va_list ap)
{
	int ret = 0;

	if (fd < 0 || fd >= SGSIM_MAX_FD) {
		errno = EBADF;
		return -1;
	}
	pthread_mutex_lock(&lock);
	if (cmd == F_GETFL)
		ret = fd_flags_set[fd] ? fd_flags[fd] : O_RDONLY;
	else if (cmd == F_SETFL) {
		fd_flags[fd] = va_arg(ap, int);
		fd_flags_set[fd] = true;
	} else {
		errno = EINVAL;
		ret = -1;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int ret;

	va_start(ap, cmd);
	ret = sim_fcntl(fd, cmd, ap);
	va_end(ap);
	return ret;
}

int __wrap_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int ret;

	va_start(ap, cmd);
	ret = sim_fcntl(fd, cmd, ap);
	va_end(ap);
	return ret;
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
	if (!arg) {
		errno = EFAULT;
		return -1;
	}
	if (request == SG_IO)
		return sg_io(arg);
	if (request == CCISS_GETLUNINFO)
		return cciss_lun_info(arg);
	if (request == CCISS_PASSTHRU)
		return cciss_passthru(arg);
	errno = ENOTTY;
	return -1;
}
