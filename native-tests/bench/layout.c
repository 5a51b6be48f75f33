// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The memory a path's checker holds, from the generated code itself: the
 * framework's private structs are only visible inside runner.c and
 * async_checker.c, so both are compiled into this program. Prints one JSON
 * object: struct sizes in bytes, the thread stack a runner asks for and,
 * given a checker plugin, its libcheck_async_context_size.
 *
 *   layout [PLUGIN]
 */
#include <stdio.h>

#include "runner.c"
#include "async_checker.c"

/* libcheck_async_context_size of a plugin, 0 without; -1: cannot load */
static int context_size(const char *plugin)
{
	void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
	const int *size;
	int n;

	if (!h) {
		fprintf(stderr, "layout: %s\n", dlerror());
		return -1;
	}
	size = dlsym(h, "libcheck_async_context_size");
	n = size ? *size : 0;
	dlclose(h);
	return n;
}

int main(int argc, char **argv)
{
	size_t stack = RUNNER_STACK_SIZE;
	int ctx = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: layout [PLUGIN]\n");
		return 2;
	}
	if (argc == 2 && (ctx = context_size(argv[1])) < 0)
		return 1;
	/* what start_thread() does */
	if (stack < (size_t)PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	printf("{\"runnerData\":%zu,\"runnerContext\":%zu,"
	       "\"asyncCheckerContext\":%zu,\"checker\":%zu,"
	       "\"maxNrTimeouts\":%d,\"runnerStackSize\":%d,"
	       "\"pthreadStackMin\":%zu,\"runnerStack\":%zu,"
	       "\"contextSize\":%d}\n",
	       sizeof(struct runner_data), sizeof(struct runner_context),
	       sizeof(struct async_checker_context), sizeof(struct checker),
	       MAX_NR_TIMEOUTS, RUNNER_STACK_SIZE, (size_t)PTHREAD_STACK_MIN,
	       stack, ctx);
	return 0;
}
