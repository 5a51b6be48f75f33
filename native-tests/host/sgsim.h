// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Simulated SG_IO: a checker plugin linked with -Wl,--wrap=ioctl (and
 * --wrap for pread, pread64, fcntl and fcntl64) and -lsgsim gets its SG_IO,
 * cciss passthrough and O_DIRECT read answers from a queue the test fills,
 * and every command it sends is recorded.
 */
#ifndef SGSIM_H_INCLUDED
#define SGSIM_H_INCLUDED

#include <stdbool.h>

#define SGSIM_MAX_SENSE 252
#define SGSIM_MAX_DATA 65536
#define SGSIM_MAX_CDB 16
/* the data-out bytes recorded of a command that sends data */
#define SGSIM_MAX_OUT 256
/*
 * Answers queued for one check, and commands recorded: a check with
 * budgets of 100 retries in a cycle of states sends hundreds of commands
 */
#define SGSIM_MAX_COMMANDS 4096
/* The logical volume CCISS_GETLUNINFO reports (the top two bits are not
 * part of the volume id) */
#define SGSIM_CCISS_LUNID 0xc0001234u

struct sgsim_answer {
	/* errno of a failed ioctl, 0 for success */
	int err;
	unsigned char status;
	unsigned short host_status;
	unsigned short driver_status;
	unsigned int info;
	/* resid to report; with has_resid false, dxfer_len - data copied */
	bool has_resid;
	int resid;
	/* sb_len_wr to report; the sense bytes copied are capped by mx_sb_len */
	unsigned int sb_len_wr;
	unsigned int sense_len;
	unsigned char sense[SGSIM_MAX_SENSE];
	unsigned int data_len;
	unsigned char *data;
	/* block this long before answering; -1: until sgsim_release_all() */
	int hang_ms;
};

struct sgsim_command {
	unsigned char cdb[SGSIM_MAX_CDB];
	unsigned int cdb_len;
	int direction;
	unsigned int dxfer_len;
	unsigned int timeout_ms;
	unsigned int mx_sb_len;
	/* SG_DXFER_TO_DEV: the first out_len bytes sent */
	unsigned int out_len;
	unsigned char out[SGSIM_MAX_OUT];
	/* how it was sent: 'S' SG_IO, 'C' CCISS_PASSTHRU, 'R' pread */
	char transport;
	/* 'R': the offset read from */
	long long offset;
};

/* Queues an answer for the next SG_IO (the data is copied) */
void sgsim_push(const struct sgsim_answer *ans);
/* With no answer queued, repeat this one for every SG_IO (NULL: none) */
void sgsim_set_default(const struct sgsim_answer *ans);
/* Answers still queued */
int sgsim_queued(void);
/* Drops the queue and the record of commands */
void sgsim_reset(void);
/* Commands sent since the last reset; at most max are copied */
int sgsim_commands(struct sgsim_command *out, int max);
/* SG_IO calls that found no answer */
int sgsim_overruns(void);
/* Ends every hang now and makes later hangs return at once */
void sgsim_release_all(void);
/* SG_IO calls blocked in a hang right now */
int sgsim_hanging(void);

#endif /* SGSIM_H_INCLUDED */
