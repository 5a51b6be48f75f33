// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Forced interleavings of the runner state machine (libmpathutil/runner.c).
 *
 * The runner is compiled into this program with RUNNER_TEST_HOOKS
 * (runner-test-hooks.h): every atomic step of its state machine is a
 * schedule point where the thread that reaches it stops until the
 * controller lets it go on. Two actors take steps: the caller (a thread of
 * this program calling runner_cancel(), check_runner() or release_runner())
 * and the runner thread. Only one of them runs at any time, so each run
 * follows one exact interleaving, and the controller explores all of them
 * depth first (stateless model checking: each schedule is a fresh runner).
 *
 *   sched-race --setup STEPS --race OP [--timeout-us N] [--max-schedules N]
 *
 * STEPS (comma separated, or "-" for none) bring the runner where the race
 * starts, one actor at a time: "worker" runs the thread into its worker,
 * "finish" on to the first step of its cleanup (the finish operation),
 * "cancel" lets the caller cancel the runner. With --async the caller works
 * through the async checker framework (compiled in as ASYNC_C) on two paths,
 * A and B (a "b:" before a step or OP: path B): acheck, apending, afree (its
 * check, pending and free) and acancel (a cancel of the runner in flight,
 * what a poll past the deadline does). The thread steps act on the thread
 * that took the path's newest check (until one has, the newest thread):
 * "tput" runs it to the drop of its reference, "tdone" until it ends or
 * sleeps in the pool, "hold" keeps it where it is until the race is over
 * and "stuck" until every path is up (a command stuck in SG_IO); "talone"
 * runs every runner thread alone in turn until none can go on; "nostart"
 * makes the next start of a runner thread fail (EAGAIN, as with no threads
 * left). OP is the caller's operation that then races with the rest of the
 * threads' lives: cancel
 * (runner_cancel()), poll (check_runner()) or release (release_runner()).
 * --timeout-us gives the runner a timeout; the race starts only once it has
 * passed.
 *
 * With persistent runners the checks of both paths go to the runner's pool
 * of threads (one lock, one semaphore, one queue, for the whole process):
 * any thread may take any path's check, and a thread that took one is told
 * apart from the others by its "take" step. The pool outlives a schedule,
 * so each schedule must leave it as it found it: no thread, no check
 * queued, no count left, no post (every path freed, the last one's release
 * wakes the sleeping threads and they end). One that does not is the last
 * schedule run, since the next one would start from what it left.
 *
 * After the race the threads run alone until they end or block; then
 * (unless OP was release) the caller polls once more ("final") and releases
 * the runner, and the thread runs again (async: the caller collects, or
 * starts checks, until every path that had one is up, then frees the
 * checkers, A first). One line per schedule:
 *
 *   SCHEDULE {"n":..,"trace":"T:load C:load ...","ret":..,"final":..,
 *             "copied":..,"frees":..,"freedBy":..,"putAfterFree":..,
 *             "cancels":..,"cancelAfterExit":..,"exited":..,"hang":..,
 *             "workerEntered":..,"workerCompleted":..,"finals":[..],
 *             "reused":..,"skipThenTake":..,"needlessStart":..,
 *             "starved":..,"failedStarts":..,"poolRest":..}
 *
 * and a SUMMARY line with the number of schedules and the threads of the
 * process at the end (all runner threads must have ended, except those of
 * hung schedules, which stay parked in a schedule point).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 512
#define MAX_GRANTS 1000
#define MAX_TRACE 8192
#define MAX_THREADS 8
#define NPATHS 2
#define MAX_TAKEN 16

enum role { ROLE_THREAD, ROLE_CALLER, ROLE_CONTROLLER };

struct actor {
	/* schedule points reached so far */
	unsigned int arrivals;
	const char *point;
	bool at_point;
	bool granted;
	/* signalled when the actor is granted its step */
	pthread_cond_t go;
	/* caller: command finished; thread: passed its last step */
	bool done;
	/* back at the cancel_sent wait without anything having changed */
	bool spun;
	/* thread: in its cleanup (the finish operation) */
	bool cleanup;
	/* thread: held where it is (a command stuck in SG_IO) until the end */
	bool held;
	/* thread: the pool's (it takes the pool's lock) */
	bool pool;
	/*
	 * pool thread: the check it took, until the pool counts it back (its
	 * first lock after it has dropped the check's reference)
	 */
	const void *job;
	bool job_put;
	/* pool thread: checks taken, and whether its last one's worker ran */
	int checks;
	bool entered;
	/* thread: held where it is until every path is up */
	bool stuck;
	/* thread: the semaphore it waits on */
	sem_t *waiting_on;
	/* thread: its pthread_t */
	pthread_t tid;
};

struct run {
	/* runner threads, in the order of their first step */
	struct actor threads[MAX_THREADS];
	int nthreads;
	int created;
	/* contexts freed (a new runner may reuse an address) */
	const void *freed[MAX_THREADS];
	int nfreed;
	int frees;
	int freed_by;
	bool put_after_free;
	int cancels;
	bool cancel_after_exit;
	/* the check the caller's last compare-and-swap was on */
	const void *cancelling;
	/* the checks the pool's threads took, and which took each */
	const void *taken[MAX_TAKEN];
	struct actor *taken_by[MAX_TAKEN];
	int ntaken;
	bool worker_entered;
	bool worker_completed;
	/* each path's newest check queued, and the thread that took it */
	const void *newest[NPATHS];
	struct actor *taker[NPATHS];
	/* a pool thread took a check after one whose worker ran */
	bool reused;
	/* a pool thread took a check after skipping a cancelled one */
	bool skip_then_take;
	/* a pool thread was started while a live one had no check */
	bool needless_start;
	/* a check queued with no thread coming for it, all others blocked */
	bool starved;
	/* runner threads still to fail to start ("nostart"), and those that did */
	int fail_starts;
	int failed_starts;
	char trace[MAX_TRACE];
	size_t trace_len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static __thread int role = ROLE_THREAD;
static __thread struct actor *self;
static struct actor caller;
/* the run in progress; runs of hung schedules are leaked on purpose */
static struct run *cur;
/* async: the path of the caller's operation */
static int cmd_path;

static const char *const role_name[] = { "thread", "caller", "controller" };

static void fail(const char *msg)
{
	fprintf(stderr, "sched-race: %s\n", msg);
	printf("ERROR {\"message\":\"%s\"}\n", msg);
	exit(2);
}

static void forget_freed(const void *rctx)
{
	int i;

	for (i = 0; i < cur->nfreed; i++)
		if (cur->freed[i] == rctx)
			cur->freed[i] = NULL;
}

static bool was_freed(const void *rctx)
{
	int i;

	for (i = 0; i < cur->nfreed; i++)
		if (rctx && cur->freed[i] == rctx)
			return true;
	return false;
}

/* Called with lock held: this thread's actor */
static struct actor *my_actor(const void *rctx)
{
	if (role == ROLE_CALLER)
		return &caller;
	if (!self) {
		if (cur->nthreads == MAX_THREADS)
			fail("too many runner threads");
		self = &cur->threads[cur->nthreads++];
		self->tid = pthread_self();
		pthread_cond_init(&self->go, NULL);
		forget_freed(rctx);
	}
	return self;
}

/* A pool thread takes a check */
static void take_step(struct actor *a, const void *rctx)
{
	int p;

	if (a->checks && a->entered)
		cur->reused = true;
	else if (a->checks)
		cur->skip_then_take = true;
	a->checks++;
	a->entered = false;
	a->cleanup = false;
	a->job = rctx;
	a->job_put = false;
	if (cur->ntaken == MAX_TAKEN)
		fail("too many checks taken");
	cur->taken[cur->ntaken] = rctx;
	cur->taken_by[cur->ntaken++] = a;
	for (p = 0; p < NPATHS; p++)
		if (rctx == cur->newest[p])
			cur->taker[p] = a;
}

void runner_test_point(const void *rctx, const char *step)
{
	struct actor *a;
	int old;

	if (role == ROLE_CONTROLLER || !cur)
		return;
	/* waiting here must not be a cancellation point of the runner */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&lock);
	a = my_actor(rctx);
	if (!strcmp(step, "free")) {
		cur->frees++;
		cur->freed_by = role;
		if (cur->nfreed < MAX_THREADS)
			cur->freed[cur->nfreed++] = rctx;
	} else if (!strcmp(step, "cleanup")) {
		a->cleanup = true;
	} else if (!strcmp(step, "exit")) {
		a->done = true;
		a->arrivals++;
		pthread_cond_broadcast(&cond);
	} else {
		if (!strcmp(step, "put") && was_freed(rctx))
			cur->put_after_free = true;
		if (!strcmp(step, "put") && rctx && rctx == a->job)
			a->job_put = true;
		/* a new check may reuse the address of a freed one */
		if (!strcmp(step, "queue")) {
			forget_freed(rctx);
			cur->newest[cmd_path] = rctx;
			cur->taker[cmd_path] = NULL;
		}
		if (!strcmp(step, "take"))
			take_step(a, rctx);
		if (!strcmp(step, "cas") && role == ROLE_CALLER)
			cur->cancelling = rctx;
		/* only the pool's threads take the pool's lock */
		if (role == ROLE_THREAD && !strncmp(step, "lock", 4))
			a->pool = true;
		a->point = step;
		a->at_point = true;
		a->arrivals++;
		pthread_cond_broadcast(&cond);
		while (!a->granted)
			pthread_cond_wait(&a->go, &lock);
		a->granted = false;
		a->at_point = false;
	}
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(old, NULL);
}

/* The pool thread that took a check, NULL if none did */
static struct actor *taker(const void *rctx)
{
	int i;

	for (i = cur->ntaken - 1; i >= 0; i--)
		if (cur->taken[i] == rctx)
			return cur->taken_by[i];
	return NULL;
}

#undef pthread_cancel
int runner_test_pthread_cancel(pthread_t thr)
{
	struct actor *by;
	bool gone = false;
	int i;

	runner_test_point(NULL, "pthread_cancel");
	if (role == ROLE_CONTROLLER)
		return pthread_cancel(thr);
	pthread_mutex_lock(&lock);
	cur->cancels++;
	by = taker(cur->cancelling);
	/*
	 * a pool thread that has gone on from the check (its next one, or
	 * its sleep) is as gone as one that has ended
	 */
	if (by)
		gone = by->done || by->job != cur->cancelling ||
		       !pthread_equal(by->tid, thr);
	else
		for (i = 0; i < cur->nthreads; i++)
			if (pthread_equal(cur->threads[i].tid, thr))
				gone = cur->threads[i].done;
	if (gone)
		cur->cancel_after_exit = true;
	pthread_mutex_unlock(&lock);
	/* never signal a thread that may have gone: record it instead */
	return gone ? ESRCH : pthread_cancel(thr);
}

#undef pthread_create
int runner_test_pthread_create(pthread_t *thr, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	/* the controller holds the lock already */
	bool locks = role != ROLE_CONTROLLER;
	int i;

	if (!cur)
		return pthread_create(thr, attr, fn, arg);
	if (locks)
		pthread_mutex_lock(&lock);
	if (cur->fail_starts > 0) {
		/* what pthread_create() says with no threads left */
		cur->fail_starts--;
		cur->failed_starts++;
		if (locks)
			pthread_mutex_unlock(&lock);
		return EAGAIN;
	}
	cur->created++;
	/*
	 * a pool thread is started (under the pool's lock) only if every
	 * other one runs a check, or is stuck in one: one that is awake or
	 * asleep with none would have taken it (the one that starts it may be
	 * ending, done with its check)
	 */
	for (i = 0; locks && i < cur->nthreads; i++)
		if (cur->threads[i].pool && !cur->threads[i].done &&
		    !cur->threads[i].job && &cur->threads[i] != self)
			cur->needless_start = true;
	if (locks)
		pthread_mutex_unlock(&lock);
	return pthread_create(thr, attr, fn, arg);
}

/* The pool's lock: a step that tries it, until it has it */
int runner_test_lock(pthread_mutex_t *mutex)
{
	const char *step = "lock";

	if (role == ROLE_CONTROLLER || !cur)
		return pthread_mutex_lock(mutex);
	for (;;) {
		runner_test_point(NULL, step);
		if (pthread_mutex_trylock(mutex) == 0)
			break;
		/* taken: nothing changes until another actor steps */
		step = "lock_wait";
	}
	/* a thread done with its check: the pool counts it back now */
	pthread_mutex_lock(&lock);
	if (role == ROLE_THREAD && self && self->job_put) {
		self->job = NULL;
		self->job_put = false;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* A pool thread's sleep, the lock left: it takes a post */
int runner_test_wait(sem_t *sem, const struct timespec *until)
{
	struct actor *a;

	if (role == ROLE_CONTROLLER || !cur)
		return sem_clockwait(sem, CLOCK_MONOTONIC, until);
	/*
	 * only a post wakes it, counted before or during the wait; the
	 * controller grants the step only while the semaphore has one (no
	 * other actor runs meanwhile: the post is made)
	 */
	pthread_mutex_lock(&lock);
	a = my_actor(NULL);
	a->waiting_on = sem;
	pthread_mutex_unlock(&lock);
	runner_test_point(NULL, "await_work");
	pthread_mutex_lock(&lock);
	a->waiting_on = NULL;
	pthread_mutex_unlock(&lock);
	if (sem_trywait(sem) != 0)
		fail("await_work granted without a post to take");
	return 0;
}

/* The runner under test, with its static state machine functions */
#define RUNNER_TEST_HOOKS 1
#include RUNNER_C
#ifdef ASYNC_C
/* The async checker framework, on top of it */
#include ASYNC_C
#endif

struct payload {
	int in;
	int out;
};

static void worker_body(void)
{
	pthread_mutex_lock(&lock);
	cur->worker_entered = true;
	if (role == ROLE_THREAD && self)
		self->entered = true;
	pthread_mutex_unlock(&lock);
	runner_test_point(NULL, "worker");
	/* where a pthread_cancel() that came before takes effect */
	pthread_testcancel();
	pthread_mutex_lock(&lock);
	cur->worker_completed = true;
	pthread_mutex_unlock(&lock);
}

static void worker(void *data)
{
	struct payload *p = data;

	worker_body();
	p->out = p->in + 1;
}

/* ------------------------------------------------------------------ */
/* the async checker: a checker class whose check is the worker above */

#ifdef ASYNC_C
static struct checker_class sched_class;
/* the paths, A and B */
static struct checker chk[NPATHS];

static int async_worker(struct runner_data *rdata)
{
	worker_body();
	rdata->msgid = CHECKER_MSGID_UP;
	return PATH_UP;
}

static void async_setup(void)
{
	int i;

	memset(&sched_class, 0, sizeof(sched_class));
	snprintf(sched_class.name, sizeof(sched_class.name), "sched");
	/* no libcheck_async_context_size or _init: the defaults */
	sched_class.handle = dlopen(NULL, RTLD_NOW);
	sched_class.async_func = async_worker;
	for (i = 0; i < NPATHS; i++) {
		struct checker *c = &chk[i];

		memset(c, 0, sizeof(*c));
		c->cls = &sched_class;
		c->fd = -1;
		/* no timeout: the test cancels a runner itself (acancel) */
		c->timeout = 0;
		c->path_state = PATH_UNCHECKED;
		if (async_check_init(c))
			fail("async_check_init failed");
	}
}
#endif

/* ------------------------------------------------------------------ */
/* the caller thread */

enum op {
	OP_NONE,
	OP_CANCEL,
	OP_POLL,
	OP_RELEASE,
	OP_ACHECK,
	OP_APENDING,
	OP_AFREE,
	OP_ACANCEL,
	OP_ACOLLECT,
};

static bool async_op(enum op op)
{
	return op >= OP_ACHECK;
}

static enum op command;
static struct runner_context *cmd_rctx;
static int cmd_ret;
static bool cmd_copied;
/* async: a check is in flight after the operation */
static bool cmd_need_wait;

/* An operation of the caller; p: the path of an async one */
static int do_op(enum op op, struct runner_context *rctx, int p, bool *copied)
{
	struct payload buf = { .in = 0, .out = 0 };
	int ret = -1;
#ifdef ASYNC_C
	struct checker *c = &chk[p];
#else
	(void)p;
#endif

	*copied = false;
	switch (op) {
	case OP_CANCEL:
		ret = runner_cancel(rctx);
		break;
	case OP_POLL:
		ret = check_runner(rctx, &buf, sizeof(buf));
		*copied = buf.out != 0;
		break;
	case OP_RELEASE:
		release_runner(rctx);
		break;
#ifdef ASYNC_C
	case OP_ACHECK:
		ret = c->path_state = async_check_check(c, NULL);
		break;
	case OP_APENDING:
		ret = c->path_state = async_check_pending(c, NULL);
		break;
	case OP_AFREE:
		async_check_free(c);
		break;
	case OP_ACANCEL: {
		struct async_checker_context *actx = c->context;

		/* what a poll past the deadline does */
		ret = runner_cancel(actx->rctx);
		break;
	}
	case OP_ACOLLECT:
		/* multipathd's next step: collect the check, or start one */
		if (async_check_need_wait(c))
			ret = c->path_state = async_check_pending(c, NULL);
		else
			ret = c->path_state = async_check_check(c, NULL);
		break;
#else
	case OP_ACHECK:
	case OP_APENDING:
	case OP_AFREE:
	case OP_ACANCEL:
	case OP_ACOLLECT:
		fail("not built with the async checker");
		break;
#endif
	case OP_NONE:
		break;
	}
	return ret;
}

static void *caller_main(void *arg)
{
	(void)arg;
	role = ROLE_CALLER;
	pthread_mutex_lock(&lock);
	for (;;) {
		enum op op;
		struct runner_context *rctx;
		bool copied;
		int ret, path;

		while (command == OP_NONE)
			pthread_cond_wait(&cond, &lock);
		op = command;
		rctx = cmd_rctx;
		path = cmd_path;
		command = OP_NONE;
		pthread_mutex_unlock(&lock);
		ret = do_op(op, rctx, path, &copied);
#ifdef ASYNC_C
		cmd_need_wait = async_op(op) && op != OP_AFREE &&
				async_check_need_wait(&chk[path]);
#endif
		pthread_mutex_lock(&lock);
		cmd_ret = ret;
		cmd_copied = copied;
		caller.done = true;
		caller.arrivals++;
		pthread_cond_broadcast(&cond);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the controller (called with lock held) */

static int choice[MAX_DEPTH];
static int options[MAX_DEPTH];
static int depth, forced;
static int grants;

static void trace_add(const char *who, const char *what)
{
	int n = snprintf(cur->trace + cur->trace_len, MAX_TRACE - cur->trace_len,
			 "%s%s:%s", cur->trace_len ? " " : "", who, what);

	if (n < 0 || (size_t)n >= MAX_TRACE - cur->trace_len)
		fail("trace too long");
	cur->trace_len += n;
}

/* Threads started (pthread_create) have all reached their first step */
static void wait_new_threads(void)
{
	while (cur->nthreads < cur->created)
		pthread_cond_wait(&cond, &lock);
}

static void wait_arrival(struct actor *a, unsigned int before)
{
	while (a->arrivals == before)
		pthread_cond_wait(&cond, &lock);
	wait_new_threads();
}

/* Whether a thread waiting on a semaphore can take a post */
static bool posted(const struct actor *a)
{
	int value = 0;

	if (!a->waiting_on)
		return true;
	return sem_getvalue(a->waiting_on, &value) == 0 && value > 0;
}

static bool enabled(struct actor *a)
{
	return a->at_point && !a->granted && !a->done && !a->spun &&
	       !a->held && !a->stuck && posted(a);
}

/* "T" for the first runner thread, "T1", "T2" ... for later ones */
static const char *actor_name(struct actor *a, char *buf, size_t len)
{
	long i = a - cur->threads;

	if (a == &caller)
		return "C";
	if (i == 0)
		return "T";
	snprintf(buf, len, "T%ld", i);
	return buf;
}

static void grant(struct actor *a)
{
	unsigned int before = a->arrivals;
	const char *was = a->point;
	char name[24];
	int i;

	trace_add(actor_name(a, name, sizeof(name)), a->point);
	grants++;
	a->granted = true;
	pthread_cond_signal(&a->go);
	wait_arrival(a, before);
	/* a step of one actor may unblock any other */
	for (i = 0; i < cur->nthreads; i++)
		if (&cur->threads[i] != a)
			cur->threads[i].spun = false;
	if (a != &caller)
		caller.spun = false;
	if (a != &caller && !a->done && !strcmp(was, "await_cancel_sent") &&
	    !strcmp(a->point, "await_cancel_sent"))
		a->spun = true;
	/* a lock that is taken */
	if (!a->done && !strcmp(a->point, "lock_wait"))
		a->spun = true;
}

static void caller_start(enum op op, struct runner_context *rctx, int path)
{
	unsigned int before = caller.arrivals;

	caller.done = false;
	caller.spun = false;
	command = op;
	cmd_rctx = rctx;
	cmd_path = path;
	pthread_cond_broadcast(&cond);
	wait_arrival(&caller, before);
}

/* Runs an actor alone until it is done or blocked */
static void run_alone(struct actor *a)
{
	while (enabled(a) && grants < MAX_GRANTS)
		grant(a);
}

/* Runs the runner threads, one at a time, until none can go on */
static void threads_alone(void)
{
	bool progress = true;
	int i;

	for (i = 0; i < cur->nthreads; i++)
		cur->threads[i].held = false;
	while (progress && grants < MAX_GRANTS) {
		progress = false;
		for (i = 0; i < cur->nthreads; i++) {
			if (!enabled(&cur->threads[i]))
				continue;
			run_alone(&cur->threads[i]);
			progress = true;
		}
	}
	/*
	 * none can go on: the pool's threads are asleep, stuck or gone, and
	 * a check still queued waits for nothing
	 */
	if (pool.head)
		cur->starved = true;
}

static void caller_alone(enum op op, struct runner_context *rctx, int path)
{
	caller_start(op, rctx, path);
	run_alone(&caller);
	if (!caller.done)
		fail("the caller did not finish its operation alone");
}

/* The next actor to step: the runner threads first, the caller last */
static struct actor *choose(void)
{
	struct actor *en[MAX_THREADS + 1];
	int n = 0, i, c;

	for (i = 0; i < cur->nthreads; i++)
		if (enabled(&cur->threads[i]))
			en[n++] = &cur->threads[i];
	if (enabled(&caller))
		en[n++] = &caller;
	if (n <= 1)
		return n ? en[0] : NULL;
	if (depth >= MAX_DEPTH)
		fail("schedule too deep");
	if (depth < forced) {
		c = choice[depth];
		if (options[depth] != n)
			fail("a replayed schedule diverged");
	} else {
		c = 0;
		choice[depth] = 0;
		options[depth] = n;
	}
	depth++;
	return en[c];
}

/* Sets up the next schedule; false when all have been explored */
static bool backtrack(void)
{
	int d = depth;

	while (d > 0 && choice[d - 1] + 1 >= options[d - 1])
		d--;
	if (d == 0)
		return false;
	choice[d - 1]++;
	forced = d;
	return true;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const char *state_json(int s)
{
	return s < 0 ? "null" : runner_state_name(s);
}

struct scenario {
	char setup[16][16];
	int nsetup;
	enum op race;
	/* async: the path of the race */
	int race_path;
	unsigned long timeout_us;
	bool async;
};

static enum op parse_op(const char *s)
{
	static const char *const names[] = {
		[OP_CANCEL] = "cancel",	    [OP_POLL] = "poll",
		[OP_RELEASE] = "release",   [OP_ACHECK] = "acheck",
		[OP_APENDING] = "apending", [OP_AFREE] = "afree",
		[OP_ACANCEL] = "acancel",   [OP_ACOLLECT] = "acollect",
	};
	unsigned int i;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return i;
	return OP_NONE;
}

/* A step on path B: "b:" before it */
static const char *parse_path(const char *s, int *path)
{
	*path = !strncmp(s, "b:", 2);
	return *path ? s + 2 : s;
}

static enum op parse_path_op(const char *s, int *path)
{
	enum op op = parse_op(parse_path(s, path));

	if (*path && !async_op(op))
		fail("only the async checker's operations have a path");
	return op;
}

/* The thread that took the path's newest check; until one has, the newest */
static struct actor *subject(int path)
{
	if (cur->taker[path])
		return cur->taker[path];
	if (!cur->nthreads)
		fail("setup: no runner thread");
	return &cur->threads[cur->nthreads - 1];
}

/* Whether a thread sleeps in the pool */
static bool asleep(const struct actor *a)
{
	return a->at_point && a->waiting_on && !posted(a);
}

/* async: the paths that had a check, and those freed */
static bool used[NPATHS], gone[NPATHS];

static void setup_step(const char *step, struct runner_context *rctx)
{
	int path;
	const char *s = parse_path(step, &path);
	enum op op = parse_op(s);
	struct actor *t;

	if (op != OP_NONE) {
		used[path] = used[path] || op == OP_ACHECK;
		gone[path] = gone[path] || op == OP_AFREE;
		caller_alone(op, rctx, path);
		return;
	}
	if (!strcmp(s, "talone")) {
		threads_alone();
		return;
	}
	t = subject(path);
	if (!strcmp(s, "worker")) {
		while (enabled(t) && strcmp(t->point, "worker"))
			grant(t);
		if (!enabled(t))
			fail("setup: the thread did not reach its worker");
	} else if (!strcmp(s, "finish")) {
		while (enabled(t) && !t->cleanup)
			grant(t);
		if (!enabled(t))
			fail("setup: the thread did not reach its cleanup");
	} else if (!strcmp(s, "tput")) {
		while (enabled(t) && strcmp(t->point, "put"))
			grant(t);
		if (!enabled(t))
			fail("setup: the thread did not reach its reference drop");
	} else if (!strcmp(s, "hold")) {
		t->held = true;
	} else if (!strcmp(s, "stuck")) {
		t->stuck = true;
	} else if (!strcmp(s, "nostart")) {
		cur->fail_starts++;
	} else if (!strcmp(s, "tdone")) {
		/* a pool thread sleeps until its next check */
		run_alone(t);
		if (!t->done && !asleep(t))
			fail("setup: the thread did not end or sleep alone");
	} else {
		fail("unknown setup step");
	}
}

static const char *json_bool(bool b)
{
	return b ? "true" : "false";
}

static void print_state(const char *key, bool async, int s)
{
	printf(",\"%s\":", key);
	if (s < 0)
		printf("null");
	else if (async)
		printf("%d", s);
	else
		printf("\"%s\"", state_json(s));
}

/*
 * The persistent runners' pool as a schedule must leave it: no thread, no
 * check queued, no count, no post owed or made, its lock free
 */
static bool pool_at_rest(void)
{
	if (pthread_mutex_trylock(&pool.lock))
		return false;
	pthread_mutex_unlock(&pool.lock);
	return !pool.head && !pool.tail && !pool.threads && !pool.awake &&
	       !pool.asleep && !pool.to_wake && !pool.users;
}

#ifdef ASYNC_C
/*
 * After the race: collects, or starts checks, until every path that had one
 * is up (a few checks at most), then frees the paths, A first; finals[] is
 * what each path ended in, -1 for one without a check or freed in the race
 */
static void async_finish(int finals[NPATHS])
{
	int collects = 0, p, i;
	bool down = true;

	for (p = 0; p < NPATHS; p++)
		finals[p] = used[p] && !gone[p] ? chk[p].path_state : -1;
	while (down && collects++ < 8) {
		down = false;
		for (p = 0; p < NPATHS; p++) {
			if (finals[p] < 0 || finals[p] == PATH_UP)
				continue;
			caller_alone(OP_ACOLLECT, NULL, p);
			finals[p] = cmd_ret;
			threads_alone();
			down = down || finals[p] != PATH_UP;
		}
	}
	for (i = 0; i < cur->nthreads; i++)
		cur->threads[i].stuck = false;
	for (p = 0; p < NPATHS; p++) {
		if (gone[p])
			continue;
		caller_alone(OP_AFREE, NULL, p);
		threads_alone();
	}
}
#endif

/* One schedule; returns the number of threads that never ended */
static int run_schedule(const struct scenario *sc, long n, bool *rest)
{
	struct payload p = { .in = 41, .out = 0 };
	struct runner_context *rctx = NULL;
	int ret, final = -1, i, ended = 0, finals[NPATHS] = { -1, -1 };
	bool copied = false, need_wait = false;
	uint64_t t0;

	cur = calloc(1, sizeof(*cur));
	if (!cur)
		fail("out of memory");
	cur->freed_by = -1;
	depth = 0;
	grants = 0;
	caller = (struct actor){ .done = true };
	pthread_cond_init(&caller.go, NULL);
	memset(used, 0, sizeof(used));
	memset(gone, 0, sizeof(gone));
	if (sc->async) {
#ifdef ASYNC_C
		async_setup();
#endif
	} else {
		rctx = get_runner(worker, &p, sizeof(p), sc->timeout_us);
		if (!rctx)
			fail("get_runner failed");
		t0 = mono_ns();
		wait_new_threads();
		/* the race starts once the deadline has passed */
		while (sc->timeout_us &&
		       mono_ns() < t0 + sc->timeout_us * 1000 + 1000)
			sched_yield();
	}
	for (i = 0; i < sc->nsetup; i++)
		setup_step(sc->setup[i], rctx);
	/* the race */
	used[sc->race_path] = used[sc->race_path] || sc->race == OP_ACHECK;
	gone[sc->race_path] = gone[sc->race_path] || sc->race == OP_AFREE;
	caller_start(sc->race, rctx, sc->race_path);
	while (!caller.done) {
		struct actor *a = choose();

		if (!a || grants >= MAX_GRANTS)
			fail("nothing can run while the caller is in the race");
		grant(a);
	}
	ret = cmd_ret;
	copied = cmd_copied;
	need_wait = cmd_need_wait;
	/* the rest, one actor at a time */
	threads_alone();
	if (sc->async) {
#ifdef ASYNC_C
		async_finish(finals);
		final = finals[sc->race_path];
#endif
	} else if (sc->race != OP_RELEASE) {
		caller_alone(OP_POLL, rctx, 0);
		final = cmd_ret;
		copied = cmd_copied;
		caller_alone(OP_RELEASE, rctx, 0);
		threads_alone();
	}
	*rest = pool_at_rest();
	for (i = 0; i < cur->nthreads; i++)
		ended += cur->threads[i].done;
	printf("SCHEDULE {\"n\":%ld,\"trace\":\"%s\"", n, cur->trace);
	if ((sc->async && sc->race == OP_AFREE) || sc->race == OP_RELEASE)
		print_state("ret", sc->async, -1);
	else
		print_state("ret", sc->async, ret);
	print_state("final", sc->async, final);
	printf(",\"needWait\":%s,\"copied\":%s,\"frees\":%d,\"freedBy\":",
	       need_wait ? "true" : "false", copied ? "true" : "false",
	       cur->frees);
	if (cur->freed_by < 0)
		printf("null");
	else
		printf("\"%s\"", role_name[cur->freed_by]);
	printf(",\"putAfterFree\":%s,\"cancels\":%d,\"cancelAfterExit\":%s,"
	       "\"threads\":%d,\"created\":%d,\"exited\":%s,\"hang\":%s,"
	       "\"workerEntered\":%s,\"workerCompleted\":%s,\"grants\":%d",
	       cur->put_after_free ? "true" : "false", cur->cancels,
	       cur->cancel_after_exit ? "true" : "false", cur->nthreads,
	       cur->created, ended == cur->nthreads ? "true" : "false",
	       ended < cur->nthreads ? "true" : "false",
	       cur->worker_entered ? "true" : "false",
	       cur->worker_completed ? "true" : "false", grants);
	printf(",\"finals\":[%d,%d],\"reused\":%s,\"skipThenTake\":%s,"
	       "\"needlessStart\":%s,\"starved\":%s,\"failedStarts\":%d,"
	       "\"poolRest\":%s}\n",
	       finals[0], finals[1], json_bool(cur->reused),
	       json_bool(cur->skip_then_take), json_bool(cur->needless_start),
	       json_bool(cur->starved), cur->failed_starts, json_bool(*rest));
	i = cur->nthreads - ended;
	/* a hung thread keeps its run: it is parked on it for ever */
	if (!i)
		free(cur);
	cur = NULL;
	return i;
}

static const char usage[] =
	"usage: sched-race --setup STEPS --race [b:]OP [--async] [--timeout-us N] [--max-schedules N]";

int main(int argc, char **argv)
{
	// clang-format off
	static const struct option longopts[] = {
		{ "setup", required_argument, NULL, 's' },
		{ "race", required_argument, NULL, 'r' },
		{ "async", no_argument, NULL, 'a' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "max-schedules", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	// clang-format on
	struct scenario sc = { .race = OP_NONE };
	long max = 100000, n = 0, hangs = 0;
	int opt, base, end, i, path;
	bool rest = true;
	uint64_t t0, until;
	pthread_t thr;

	role = ROLE_CONTROLLER;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': {
			char *save = NULL, *tok;

			if (!strcmp(optarg, "-"))
				break;
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (sc.nsetup == 16 || strlen(tok) >= 16)
					fail("bad --setup");
				strcpy(sc.setup[sc.nsetup++], tok);
			}
			break;
		}
		case 'r':
			sc.race = parse_path_op(optarg, &sc.race_path);
			if (sc.race == OP_NONE || sc.race == OP_ACOLLECT)
				fail("--race: cancel, poll, release, acheck, apending, afree or acancel");
			break;
		case 'a':
			sc.async = true;
			break;
		case 't':
			sc.timeout_us = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			max = strtol(optarg, NULL, 0);
			break;
		default:
			fail(usage);
		}
	}
	if (sc.race == OP_NONE || optind != argc)
		fail(usage);
	for (i = 0; i < sc.nsetup; i++) {
		const char *step = parse_path(sc.setup[i], &path);

		if (async_op(parse_op(step)) && !sc.async)
			fail("async setup steps need --async");
	}
	if (async_op(sc.race) != sc.async)
		fail("--async goes with the async operations");
#ifndef ASYNC_C
	if (sc.async)
		fail("not built with the async checker");
#endif
	libmp_verbosity = 0;
	if (pthread_create(&thr, NULL, caller_main, NULL))
		fail("cannot create the caller thread");
	base = count_threads();
	t0 = mono_ns();
	pthread_mutex_lock(&lock);
	do {
		if (n >= max)
			fail("too many schedules");
		hangs += run_schedule(&sc, n++, &rest);
		fflush(stdout);
		/* the next schedule would start from what this one left */
	} while (rest && backtrack());
	pthread_mutex_unlock(&lock);
	/* every runner thread has ended (hung ones stay parked) */
	until = mono_ns() + 5000000000ULL;
	while ((end = count_threads()) > base + hangs && mono_ns() < until)
		sched_yield();
	printf("SUMMARY {\"schedules\":%ld,\"hangs\":%ld,\"threadsBase\":%d,"
	       "\"threadsEnd\":%d,\"ms\":%.1f,\"stopped\":%s}\n",
	       n, hangs, base, end, (mono_ns() - t0) / 1e6,
	       rest ? "false" : "true");
	return 0;
}
