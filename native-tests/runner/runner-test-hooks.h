// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The test hooks of the runner (templates/runner.c.hbs) for the forced
 * interleaving test, sched-race.c. runner.c includes this header only when
 * the build defines RUNNER_TEST_HOOKS.
 *
 * RUNNER_TEST_POINT(rctx, step) is called before every atomic step of the
 * state machine (state load, compare-and-swap, cancel_sent store and load,
 * reference drop), and as an event at the free and at the start and end of
 * the thread's cleanup.
 * pthread_cancel() is wrapped, so that its call is a step too and the test
 * can see whether it targets a thread that has already ended;
 * pthread_create() is wrapped, so that the test knows a runner thread is
 * on its way to its first step.
 *
 * RUNNER_TEST_LOCK(mutex) takes the lock of the persistent runners' pool:
 * a step "lock" that tries it, then steps "lock_wait" that try again until
 * it succeeds (a try that fails changes nothing). RUNNER_TEST_WAIT(sem,
 * until), a pool thread's sleep (the lock already left, taken again after
 * it), is a step "await_work" that can be taken only while the semaphore
 * counts a post, and takes that post: a post made before the wait is not
 * lost. The pool's steps: "queue" (a check queued, rctx the check), "take"
 * (a thread takes it), "wake" (a post on the semaphore, rctx the
 * semaphore, made just after the step).
 */
#ifndef RUNNER_TEST_HOOKS_H_INCLUDED
#define RUNNER_TEST_HOOKS_H_INCLUDED

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

void runner_test_point(const void *rctx, const char *step);
int runner_test_pthread_cancel(pthread_t thr);
int runner_test_pthread_create(pthread_t *thr, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg);
int runner_test_lock(pthread_mutex_t *mutex);
int runner_test_wait(sem_t *sem, const struct timespec *until);

#define RUNNER_TEST_POINT(rctx, step) runner_test_point(rctx, step)
#define RUNNER_TEST_LOCK(mutex) runner_test_lock(mutex)
#define RUNNER_TEST_WAIT(sem, until) runner_test_wait(sem, until)
#define pthread_cancel(thr) runner_test_pthread_cancel(thr)
#define pthread_create(thr, attr, fn, arg) \
	runner_test_pthread_create(thr, attr, fn, arg)

#endif /* RUNNER_TEST_HOOKS_H_INCLUDED */
