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
 * "cancel" lets the caller cancel the runner. OP is the caller's
 * operation that then races with the rest of the thread's life: cancel
 * (runner_cancel()), poll (check_runner()) or release (release_runner()).
 * --timeout-us gives the runner a timeout; the race starts only once it has
 * passed.
 *
 * After the race the thread runs alone until it ends or blocks; then (unless
 * OP was release) the caller polls once more ("final") and releases the
 * runner, and the thread runs again. One line per schedule:
 *
 *   SCHEDULE {"n":..,"trace":"T:load C:load ...","ret":..,"final":..,
 *             "copied":..,"frees":..,"freedBy":..,"putAfterFree":..,
 *             "cancels":..,"cancelAfterExit":..,"exited":..,"hang":..,
 *             "workerEntered":..,"workerCompleted":..}
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 512
#define MAX_GRANTS 400
#define MAX_TRACE 8192

enum role { ROLE_THREAD, ROLE_CALLER, ROLE_CONTROLLER };

struct actor {
	/* schedule points reached so far */
	unsigned int arrivals;
	const char *point;
	bool at_point;
	bool granted;
	/* caller: command finished; thread: passed its last step */
	bool done;
	/* back at the cancel_sent wait without anything having changed */
	bool spun;
	/* thread: in its cleanup (the finish operation) */
	bool cleanup;
};

struct run {
	struct actor thread;
	int frees;
	int freed_by;
	bool put_after_free;
	int cancels;
	bool cancel_after_exit;
	bool worker_entered;
	bool worker_completed;
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

static const char *const role_name[] = { "thread", "caller", "controller" };

static void fail(const char *msg)
{
	fprintf(stderr, "sched-race: %s\n", msg);
	printf("ERROR {\"message\":\"%s\"}\n", msg);
	exit(2);
}

/* Called with lock held: this thread's actor */
static struct actor *my_actor(void)
{
	if (role == ROLE_CALLER)
		return &caller;
	if (!self)
		self = &cur->thread;
	return self;
}

void runner_test_point(const void *rctx, const char *step)
{
	struct actor *a;
	int old;

	(void)rctx;
	if (role == ROLE_CONTROLLER)
		return;
	/* waiting here must not be a cancellation point of the runner */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&lock);
	a = my_actor();
	if (!strcmp(step, "free")) {
		cur->frees++;
		cur->freed_by = role;
	} else if (!strcmp(step, "cleanup")) {
		a->cleanup = true;
	} else if (!strcmp(step, "exit")) {
		a->done = true;
		a->arrivals++;
		pthread_cond_broadcast(&cond);
	} else {
		if (!strcmp(step, "put") && cur->frees)
			cur->put_after_free = true;
		a->point = step;
		a->at_point = true;
		a->arrivals++;
		pthread_cond_broadcast(&cond);
		while (!a->granted)
			pthread_cond_wait(&cond, &lock);
		a->granted = false;
		a->at_point = false;
	}
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(old, NULL);
}

#undef pthread_cancel
int runner_test_pthread_cancel(pthread_t thr)
{
	bool gone;

	runner_test_point(NULL, "pthread_cancel");
	if (role == ROLE_CONTROLLER)
		return pthread_cancel(thr);
	pthread_mutex_lock(&lock);
	cur->cancels++;
	gone = cur->thread.done;
	if (gone)
		cur->cancel_after_exit = true;
	pthread_mutex_unlock(&lock);
	/* never signal a thread that may have gone: record it instead */
	return gone ? ESRCH : pthread_cancel(thr);
}

/* The runner under test, with its static state machine functions */
#define RUNNER_TEST_HOOKS 1
#include RUNNER_C

struct payload {
	int in;
	int out;
};

static void worker(void *data)
{
	struct payload *p = data;

	pthread_mutex_lock(&lock);
	cur->worker_entered = true;
	pthread_mutex_unlock(&lock);
	runner_test_point(NULL, "worker");
	/* where a pthread_cancel() that came before takes effect */
	pthread_testcancel();
	p->out = p->in + 1;
	pthread_mutex_lock(&lock);
	cur->worker_completed = true;
	pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------ */
/* the caller thread */

enum op { OP_NONE, OP_CANCEL, OP_POLL, OP_RELEASE };

static enum op command;
static struct runner_context *cmd_rctx;
static int cmd_ret;
static bool cmd_copied;

static int do_op(enum op op, struct runner_context *rctx, bool *copied)
{
	struct payload buf = { .in = 0, .out = 0 };
	int ret = -1;

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
		int ret;

		while (command == OP_NONE)
			pthread_cond_wait(&cond, &lock);
		op = command;
		rctx = cmd_rctx;
		command = OP_NONE;
		pthread_mutex_unlock(&lock);
		ret = do_op(op, rctx, &copied);
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
static bool untried[MAX_DEPTH];
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

static void wait_arrival(struct actor *a, unsigned int before)
{
	while (a->arrivals == before)
		pthread_cond_wait(&cond, &lock);
}

static bool enabled(struct actor *a)
{
	return a->at_point && !a->granted && !a->done && !a->spun;
}

static void grant(struct actor *a)
{
	unsigned int before = a->arrivals;
	const char *was = a->point;

	trace_add(a == &caller ? "C" : "T", a->point);
	grants++;
	a->granted = true;
	pthread_cond_broadcast(&cond);
	wait_arrival(a, before);
	if (a == &caller)
		cur->thread.spun = false;
	else if (!a->done && !strcmp(was, "await_cancel_sent") &&
		 !strcmp(a->point, "await_cancel_sent"))
		a->spun = true;
}

static void caller_start(enum op op, struct runner_context *rctx)
{
	unsigned int before = caller.arrivals;

	caller.done = false;
	caller.spun = false;
	command = op;
	cmd_rctx = rctx;
	pthread_cond_broadcast(&cond);
	wait_arrival(&caller, before);
}

/* Runs an actor alone until it is done or blocked */
static void run_alone(struct actor *a)
{
	while (enabled(a) && grants < MAX_GRANTS)
		grant(a);
}

static void caller_alone(enum op op, struct runner_context *rctx)
{
	caller_start(op, rctx);
	run_alone(&caller);
	if (!caller.done)
		fail("the caller did not finish its operation alone");
}

static struct actor *choose(void)
{
	struct actor *t = &cur->thread;
	bool c_ok = enabled(&caller), t_ok = enabled(t);
	int c;

	if (!c_ok && !t_ok)
		return NULL;
	if (c_ok != t_ok)
		return c_ok ? &caller : t;
	if (depth >= MAX_DEPTH)
		fail("schedule too deep");
	if (depth < forced) {
		c = choice[depth];
	} else {
		/* the thread first, the caller on backtracking */
		c = ROLE_THREAD;
		choice[depth] = c;
		untried[depth] = true;
	}
	depth++;
	return c == ROLE_CALLER ? &caller : t;
}

/* Sets up the next schedule; false when all have been explored */
static bool backtrack(void)
{
	int d = depth;

	while (d > 0 && !untried[d - 1])
		d--;
	if (d == 0)
		return false;
	choice[d - 1] = ROLE_CALLER;
	untried[d - 1] = false;
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
	unsigned long timeout_us;
};

/* One schedule; returns true if it hung */
static bool run_schedule(const struct scenario *sc, long n)
{
	struct payload p = { .in = 41, .out = 0 };
	struct runner_context *rctx;
	int ret, final = -1, i;
	bool copied = false, hang;
	uint64_t t0;

	cur = calloc(1, sizeof(*cur));
	if (!cur)
		fail("out of memory");
	cur->freed_by = -1;
	depth = 0;
	grants = 0;
	caller = (struct actor){ .done = true };
	rctx = get_runner(worker, &p, sizeof(p), sc->timeout_us);
	if (!rctx)
		fail("get_runner failed");
	t0 = mono_ns();
	wait_arrival(&cur->thread, 0);
	/* the race starts once the deadline has passed */
	while (sc->timeout_us && mono_ns() < t0 + sc->timeout_us * 1000 + 1000)
		sched_yield();
	for (i = 0; i < sc->nsetup; i++) {
		const char *s = sc->setup[i];
		struct actor *t = &cur->thread;

		if (!strcmp(s, "cancel")) {
			caller_alone(OP_CANCEL, rctx);
			continue;
		}
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
		} else {
			fail("unknown setup step");
		}
	}
	/* the race */
	caller_start(sc->race, rctx);
	while (!caller.done) {
		struct actor *a = choose();

		if (!a || grants >= MAX_GRANTS)
			fail("nothing can run while the caller is in the race");
		grant(a);
	}
	ret = cmd_ret;
	copied = cmd_copied;
	/* the rest, one actor at a time */
	run_alone(&cur->thread);
	if (sc->race != OP_RELEASE) {
		caller_alone(OP_POLL, rctx);
		final = cmd_ret;
		copied = cmd_copied;
		caller_alone(OP_RELEASE, rctx);
		run_alone(&cur->thread);
	}
	hang = !cur->thread.done;
	printf("SCHEDULE {\"n\":%ld,\"trace\":\"%s\",\"ret\":", n, cur->trace);
	if (sc->race == OP_RELEASE)
		printf("null");
	else
		printf("\"%s\"", state_json(ret));
	printf(",\"final\":");
	if (final < 0)
		printf("null");
	else
		printf("\"%s\"", state_json(final));
	printf(",\"copied\":%s,\"frees\":%d,\"freedBy\":",
	       copied ? "true" : "false", cur->frees);
	if (cur->freed_by < 0)
		printf("null");
	else
		printf("\"%s\"", role_name[cur->freed_by]);
	printf(",\"putAfterFree\":%s,\"cancels\":%d,\"cancelAfterExit\":%s,"
	       "\"exited\":%s,\"hang\":%s,\"workerEntered\":%s,"
	       "\"workerCompleted\":%s,\"grants\":%d}\n",
	       cur->put_after_free ? "true" : "false", cur->cancels,
	       cur->cancel_after_exit ? "true" : "false",
	       cur->thread.done ? "true" : "false", hang ? "true" : "false",
	       cur->worker_entered ? "true" : "false",
	       cur->worker_completed ? "true" : "false", grants);
	/* a hung thread keeps its run: it is parked on it for ever */
	if (!hang)
		free(cur);
	cur = NULL;
	return hang;
}

static enum op parse_op(const char *s)
{
	if (!strcmp(s, "cancel"))
		return OP_CANCEL;
	if (!strcmp(s, "poll"))
		return OP_POLL;
	if (!strcmp(s, "release"))
		return OP_RELEASE;
	fail("--race must be cancel, poll or release");
	return OP_NONE;
}

int main(int argc, char **argv)
{
	// clang-format off
	static const struct option longopts[] = {
		{ "setup", required_argument, NULL, 's' },
		{ "race", required_argument, NULL, 'r' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "max-schedules", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	// clang-format on
	struct scenario sc = { .race = OP_NONE };
	long max = 100000, n = 0, hangs = 0;
	int opt, base, end;
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
			sc.race = parse_op(optarg);
			break;
		case 't':
			sc.timeout_us = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			max = strtol(optarg, NULL, 0);
			break;
		default:
			fail("usage: sched-race --setup STEPS --race OP [--timeout-us N] [--max-schedules N]");
		}
	}
	if (sc.race == OP_NONE || optind != argc)
		fail("usage: sched-race --setup STEPS --race OP [--timeout-us N] [--max-schedules N]");
	libmp_verbosity = 0;
	if (pthread_create(&thr, NULL, caller_main, NULL))
		fail("cannot create the caller thread");
	base = count_threads();
	t0 = mono_ns();
	pthread_mutex_lock(&lock);
	do {
		if (n >= max)
			fail("too many schedules");
		hangs += run_schedule(&sc, n++);
		fflush(stdout);
	} while (backtrack());
	pthread_mutex_unlock(&lock);
	/* every runner thread has ended (hung ones stay parked) */
	until = mono_ns() + 5000000000ULL;
	while ((end = count_threads()) > base + hangs && mono_ns() < until)
		sched_yield();
	printf("SUMMARY {\"schedules\":%ld,\"hangs\":%ld,\"threadsBase\":%d,"
	       "\"threadsEnd\":%d,\"ms\":%.1f}\n",
	       n, hangs, base, end, (mono_ns() - t0) / 1e6);
	return 0;
}
