// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * check_runner()'s copy of the data: back to the caller only in DONE, and
 * never more than the runner holds, whatever size the caller passes
 * (upstream's check_runner does not check the size and over-reads:
 * runner-api.md section 2, "Data"). One line per expectation; exit 0 when
 * all of them hold, 1 otherwise.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"

#define SIZE 24
#define SLACK 40
#define CALLER_FILL 0xa5
#define WORKER_FILL 0x5a

static int go;
static int failures;

static void worker(void *data)
{
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sched_yield();
	memset(data, WORKER_FILL, SIZE);
}

static void expect(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

static int all(const unsigned char *p, unsigned int n, unsigned char v)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	unsigned char in[SIZE], out[SIZE + SLACK];
	struct runner_context *rctx;
	int state;

	memset(in, 0x11, sizeof(in));
	rctx = get_runner(worker, in, SIZE, 0);
	if (!rctx) {
		printf("FAIL: get_runner\n");
		return 1;
	}
	memset(out, CALLER_FILL, sizeof(out));
	state = check_runner(rctx, out, sizeof(out));
	expect(state == RUNNER_RUNNING, "running while the worker waits");
	expect(all(out, sizeof(out), CALLER_FILL), "nothing copied while running");
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	while ((state = check_runner(rctx, NULL, 0)) == RUNNER_RUNNING)
		sched_yield();
	expect(state == RUNNER_DONE, "done once the worker returned");
	state = check_runner(rctx, out, sizeof(out));
	expect(state == RUNNER_DONE, "still done");
	expect(all(out, SIZE, WORKER_FILL), "the worker's data copied");
	expect(all(out + SIZE, SLACK, CALLER_FILL),
	       "nothing past the runner's size copied");
	release_runner(rctx);
	return failures ? 1 : 0;
}
