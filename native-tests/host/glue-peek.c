// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The generated async checker framework (ASYNC_C, the path of
 * async_checker.c), compiled into the checker host with one accessor
 * added: the checker context the framework keeps for a path. Its struct is
 * private to async_checker.c, so the accessor lives in the same unit; the
 * framework itself is unchanged.
 */
#include ASYNC_C

#include "glue-peek.h"

const unsigned char *host_checker_context(const struct checker *c, unsigned int *len)
{
	const struct async_checker_context *actx = c->context;

	if (!actx) {
		*len = 0;
		return NULL;
	}
	*len = actx->rdata_size - sizeof(struct runner_data);
	return (const unsigned char *)actx->rdata->checker_ctx;
}
