// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The scheduling policy a persistent worker runs its checks under
 * (RUNNER_BATCH_WORKERS): each check's worker function records
 * sched_getscheduler(0) of the thread it runs in.
 *
 *   worker-policy other   the caller runs SCHED_OTHER
 *   worker-policy rr      the caller first moves itself to SCHED_RR at the
 *                         highest priority, as multipathd does (needs
 *                         CAP_SYS_NICE)
 *
 * Prints one line per check, "check N: POLICY", POLICY one of other, batch,
 * rr or unknown; exits 2 if the caller cannot set its policy, 1 if a check
 * does not end in RUNNER_DONE.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"

#define CHECKS 3

struct check {
	int policy;
};

static void worker(void *data)
{
	struct check *c = data;

	c->policy = sched_getscheduler(0);
}

static const char *policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return "other";
	case SCHED_BATCH:
		return "batch";
	case SCHED_RR:
		return "rr";
	default:
		return "unknown";
	}
}

int main(int argc, char **argv)
{
	struct persistent_runner *pr = NULL;
	int i;

	if (argc != 2 || (strcmp(argv[1], "other") && strcmp(argv[1], "rr"))) {
		fprintf(stderr, "usage: worker-policy other|rr\n");
		return 2;
	}
	if (!strcmp(argv[1], "rr")) {
		struct sched_param param = {
			.sched_priority = sched_get_priority_max(SCHED_RR),
		};

		if (sched_setscheduler(0, SCHED_RR, &param)) {
			fprintf(stderr, "cannot set SCHED_RR: %s\n",
				strerror(errno));
			return 2;
		}
	}
	for (i = 1; i <= CHECKS; i++) {
		struct check c = { .policy = -1 };
		struct runner_context *rctx;
		int state;

		rctx = get_persistent_runner(&pr, worker, &c, sizeof(c), 0);
		if (!rctx) {
			fprintf(stderr, "get_persistent_runner failed\n");
			return 1;
		}
		while ((state = check_runner(rctx, &c, sizeof(c))) == RUNNER_RUNNING)
			sched_yield();
		release_runner(rctx);
		if (state != RUNNER_DONE) {
			fprintf(stderr, "check %d ended %s\n", i,
				runner_state_name(state));
			return 1;
		}
		printf("check %d: %s\n", i, policy_name(c.policy));
	}
	release_persistent_runner(pr);
	return 0;
}
