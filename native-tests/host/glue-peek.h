/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copyright (c) 2026 The mpcheckgen authors */
#ifndef GLUE_PEEK_H_INCLUDED
#define GLUE_PEEK_H_INCLUDED

struct checker;

/*
 * The checker context of a path as the async checker framework keeps it
 * between checks (NULL and *len 0 without one), for the checker host to
 * print: the tests compare it with the interpreter's.
 */
const unsigned char *
host_checker_context(const struct checker *c, unsigned int *len);

#endif
