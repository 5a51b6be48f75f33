// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Deliberately broken wrappers around the runner API. They prove that
 * runner-race detects contract violations, i.e. that a passing race test
 * means something. This file is linked into a separate binary, built with
 * -Dcheck_runner=mutant_check_runner -Drelease_runner=mutant_release_runner,
 * so that runner-race.c calls the wrappers, which call the real functions.
 *
 * The mutation is chosen at run time with the environment variable
 * RACE_MUTANT:
 *   none       no mutation
 *   late-copy  garbage is "copied" to the caller in CANCELLED and DEAD
 *   stuck      CANCELLED and DEAD are reported as RUNNING (timeout ignored)
 *   done-late  DEAD is reported as DONE (a late result passed as valid)
 *   leak       every 16th runner is never released
 *   crash      the test process aborts at the first check
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "runner.h"

#undef check_runner
#undef release_runner
int check_runner(struct runner_context *rctx, void *data, unsigned int size);
void release_runner(struct runner_context *rctx);

enum mutant {
	MUTANT_NONE,
	MUTANT_LATE_COPY,
	MUTANT_STUCK,
	MUTANT_DONE_LATE,
	MUTANT_LEAK,
	MUTANT_CRASH,
};

static int mutant(void)
{
	static int selected = -1;
	const char *env;

	if (selected >= 0)
		return selected;
	env = getenv("RACE_MUTANT");
	if (!env || !strcmp(env, "none"))
		selected = MUTANT_NONE;
	else if (!strcmp(env, "late-copy"))
		selected = MUTANT_LATE_COPY;
	else if (!strcmp(env, "stuck"))
		selected = MUTANT_STUCK;
	else if (!strcmp(env, "done-late"))
		selected = MUTANT_DONE_LATE;
	else if (!strcmp(env, "leak"))
		selected = MUTANT_LEAK;
	else if (!strcmp(env, "crash"))
		selected = MUTANT_CRASH;
	else {
		condlog(0, "unknown RACE_MUTANT \"%s\"", env);
		exit(2);
	}
	return selected;
}

int mutant_check_runner(struct runner_context *ctx, void *buf, unsigned int n)
{
	int state = check_runner(ctx, buf, n);
	bool gone = state == RUNNER_CANCELLED || state == RUNNER_DEAD;

	switch (mutant()) {
	case MUTANT_LATE_COPY:
		if (gone && buf)
			memset(buf, 0x5a, n);
		break;
	case MUTANT_STUCK:
		if (gone)
			state = RUNNER_RUNNING;
		break;
	case MUTANT_DONE_LATE:
		if (state == RUNNER_DEAD)
			state = RUNNER_DONE;
		break;
	case MUTANT_CRASH:
		abort();
	default:
		break;
	}
	return state;
}

void mutant_release_runner(struct runner_context *rctx)
{
	static unsigned int calls;

	if (mutant() == MUTANT_LEAK && ++calls % 16 == 0)
		return;
	release_runner(rctx);
}
