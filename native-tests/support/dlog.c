// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * dlog() and libmp_verbosity for the test builds of libmpathutil: what
 * condlog() calls. Messages go to stderr with a monotonic timestamp.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "debug.h"

int libmp_verbosity = 2;

void dlog(int prio, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "%ld.%06ld | %d | ", (long)ts.tv_sec,
		ts.tv_nsec / 1000, prio);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
