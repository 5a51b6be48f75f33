// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * Race test for the runner thread framework (libmpathutil/runner.c).
 *
 * N runners are started per run. Each sleeps for a random time around the
 * runner timeout and then sets end = start + 1 in its private copy of the
 * payload. The main loop polls like multipathd does: DONE runners are
 * released after their payload has been checked, DEAD runners at once,
 * CANCELLED and RUNNING runners are polled again. A run ends when nothing is
 * running any more, or after max_wait; CANCELLED runners are released then.
 *
 * Errors are runners still RUNNING (or IDLE) at the end of a run, payloads
 * that are wrong in DONE or that were copied in any other state, impossible
 * states or transitions (e.g. DONE after CANCELLED) and runners that could
 * not be created.
 *
 * The runs happen in a forked child. The parent can interrupt it with
 * SIGINT after -k ms (a simulated daemon shutdown); the child then releases
 * everything and exits 0. The parent exits 0 if the child passed, 1 if it
 * did not and 130 if the child could not be run or died from a signal.
 *
 * Besides the human-readable rows, one line "RESULT {json}" is printed per
 * run and one line "SUMMARY {json}" at the end, for scripts.
 *
 * Under valgrind, or ASan with leak detection, the child waits up to 30 s
 * for runner threads that are still alive (workers ignoring cancellation)
 * before it exits, also after SIGINT: the context of a runner whose thread
 * is alive is reachable from that thread, so a leak would go unnoticed, and
 * the TLS of a live detached thread is reported as "possibly lost". Threads
 * still alive after the wait are reported as stragglers and fail the test.
 *
 * Built with -DRACE_PERSISTENT=1, each of the N slots is a path with a
 * persistent runner (get_persistent_runner()), kept over all runs and
 * released at the end: the checks of later runs reuse the worker threads.
 *
 * Environment: MPATHTEST_VERBOSITY (like -v), MPATHTEST_SEED (seed of the
 * random sleep times, printed in SUMMARY, for reproducing a run),
 * MPATHTEST_STRAGGLER_WAIT (1: always wait for stragglers, 0: never).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "debug.h"
#include "runner.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RACE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RACE_ASAN 1
#endif
#endif
#ifndef RACE_ASAN
#define RACE_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define RACE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RACE_TSAN 1
#endif
#endif
#ifndef RACE_TSAN
#define RACE_TSAN 0
#endif

/* Must match the value libmpathutil was built with (runner-api.md §4.8). */
#ifndef RUNNER_START_DELAY_US
#define RUNNER_START_DELAY_US 0
#endif
#ifndef RUNNER_STACK_SIZE
#define RUNNER_STACK_SIZE 0
#endif

#ifndef RACE_PERSISTENT
#define RACE_PERSISTENT 0
#endif

#define MO_ACQ	      __ATOMIC_ACQUIRE
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC  1000000000LL

/* Extra time a run may take beyond the longest sleep */
#define RUN_GRACE_MS 100
/* Bounds of the wait for straggling runner threads before exiting */
#define STRAGGLER_MIN_MS 100
#define STRAGGLER_MAX_MS 30000
/* Poll interval of the parent while it waits for the child */
#define PARENT_POLL_MS 10

struct payload {
	long wait_nsec;
	int steps;
	bool ignore_cancel;
	int start;
	char pad[128];
	int end;
};

struct options {
	long nr_runners;
	long poll_ms;
	long timeout_ms;
	long noise_ms;
	long bias;
	long steps;
	long kill_ms;
	long repeats;
	bool ignore_cancel;
	long verbosity;
};

struct slot {
	struct runner_context *rctx;
	/* the caller's copy, passed to check_runner() */
	struct payload data;
	/* the payload as passed to get_runner() */
	struct payload orig;
	bool cancelled;
};

struct run_stats {
	long total;
	long finished;
	long completed;
	long cancelled;
	long dead;
	long abandoned;
	long running;
	long bad_data;
	long bad_state;
	long create_failed;
	long errors;
	long polls;
	long long max_gap_us;
	long long create_us;
	long long duration_us;
	bool interrupted;
};

/* Shared between the child (writer) and the parent (reader, after wait) */
struct summary {
	long runs;
	long failed_runs;
	long errors;
	long total;
	long finished;
	long completed;
	long cancelled;
	long dead;
	long abandoned;
	long running;
	long bad_data;
	long bad_state;
	long create_failed;
	long stragglers;
	long workers_entered;
	long workers_completed;
	long workers_reused;
	long long straggler_wait_ms;
	long long max_gap_us;
	long long max_create_us;
	bool interrupted;
	bool straggler_wait;
	bool done;
};

static volatile sig_atomic_t got_sigint;
/* RACE_PERSISTENT: the persistent runner of each slot, over all runs */
static struct persistent_runner **workers;
static uint64_t rnd_state;

/* Updated by the workers, read by the main thread */
static long workers_entered;
static long workers_completed;
/* checks run by a thread that had run one before (persistent runners) */
static long workers_reused;
static __thread long thread_checks;
static long workers_alive;

static const struct options default_options = {
	.nr_runners = 100,
	.poll_ms = 10,
	.timeout_ms = 100,
	.noise_ms = 10,
	.bias = 5,
	.steps = 1,
	.kill_ms = 0,
	.repeats = 10,
	.ignore_cancel = false,
	.verbosity = 2,
};

static void usage(FILE *out, const char *prog)
{
	const struct options *d = &default_options;

	fprintf(out,
		"Usage: %s [-N n] [-p ms] [-t ms] [-n ms] [-b k] [-s k]\n"
		"       [-k ms] [-r k] [-i] [-v n] [-h]\n",
		prog);
	fprintf(out,
		"  -N n   number of parallel runners (default %ld)\n"
		"  -p ms  poll interval (default %ld)\n"
		"  -t ms  runner timeout, 0 means 1 us (default %ld)\n"
		"  -n ms  noise: sleep uniformly in [t - n, t + b * n]\n"
		"         (default %ld)\n"
		"  -b k   noise bias towards longer sleeps (default %ld)\n"
		"  -s k   sleep in k steps, cancellable between steps\n"
		"         (default %ld)\n",
		d->nr_runners, d->poll_ms, d->timeout_ms, d->noise_ms, d->bias,
		d->steps);
	fprintf(out,
		"  -k ms  interrupt the test with SIGINT after ms, 0 = never\n"
		"         (default %ld)\n"
		"  -r k   number of repetitions (default %ld)\n"
		"  -i     ignore cancellation while sleeping\n"
		"  -v n   verbosity (default %ld, or MPATHTEST_VERBOSITY)\n"
		"  -h     print this help and exit\n",
		d->kill_ms, d->repeats, d->verbosity);
}

/*
 * Parses the argument of option -opt (opt 0: MPATHTEST_VERBOSITY) into *val.
 * An invalid value is logged, and *val is kept.
 */
static void parse_opt(int opt, const char *arg, long min, long max, long *val)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!errno && end != arg && *end == '\0' && v >= min && v <= max) {
		*val = v;
		return;
	}
	if (opt)
		condlog(1, "invalid -%c \"%s\" (%ld..%ld), using %ld", opt,
			arg, min, max, *val);
	else
		condlog(1, "invalid MPATHTEST_VERBOSITY \"%s\", using %ld",
			arg, *val);
}

static int parse_options(int argc, char *argv[], struct options *o)
{
	const char *env = getenv("MPATHTEST_VERBOSITY");
	int c;

	*o = default_options;
	if (env && *env) {
		parse_opt(0, env, 0, 5, &o->verbosity);
		libmp_verbosity = (int)o->verbosity;
	}
	opterr = 0;
	while ((c = getopt(argc, argv, ":N:p:t:n:b:s:k:r:iv:h")) != -1) {
		switch (c) {
		case 'N':
			parse_opt('N', optarg, 1, 100000, &o->nr_runners);
			break;
		case 'p':
			parse_opt('p', optarg, 1, 3600000, &o->poll_ms);
			break;
		case 't':
			parse_opt('t', optarg, 0, 86400000, &o->timeout_ms);
			break;
		case 'n':
			parse_opt('n', optarg, 0, 86400000, &o->noise_ms);
			break;
		case 'b':
			parse_opt('b', optarg, 0, 1000, &o->bias);
			break;
		case 's':
			parse_opt('s', optarg, 1, 1000000, &o->steps);
			break;
		case 'k':
			parse_opt('k', optarg, 0, 86400000, &o->kill_ms);
			break;
		case 'r':
			parse_opt('r', optarg, 1, 1000000, &o->repeats);
			break;
		case 'i':
			o->ignore_cancel = true;
			break;
		case 'v':
			parse_opt('v', optarg, 0, 5, &o->verbosity);
			libmp_verbosity = (int)o->verbosity;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		case ':':
			condlog(0, "option -%c needs an argument", optopt);
			usage(stderr, argv[0]);
			return 1;
		default:
			condlog(0, "unknown option -%c", optopt);
			usage(stderr, argv[0]);
			return 1;
		}
	}
	if (optind < argc) {
		condlog(0, "unexpected argument \"%s\"", argv[optind]);
		usage(stderr, argv[0]);
		return 1;
	}
	libmp_verbosity = (int)o->verbosity;
	return 0;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timespec ns_to_timespec(long long ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / NSEC_PER_SEC);
	ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
	return ts;
}

/* Sleeps in the main thread; returns early on SIGINT */
static void main_sleep_ms(long long ms)
{
	struct timespec ts = ns_to_timespec(ms * NSEC_PER_MSEC), rem;

	while (!got_sigint && nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

/* xorshift64*: the sleep times only need to be spread, not secret */
static uint64_t rnd_next(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

static uint64_t init_seed(void)
{
	const char *env = getenv("MPATHTEST_SEED");
	unsigned long long seed = 0;
	char *end;

	if (env && *env) {
		errno = 0;
		seed = strtoull(env, &end, 0);
		if (errno || *end != '\0') {
			condlog(1, "invalid MPATHTEST_SEED %s, ignored", env);
			seed = 0;
		}
	}
	if (seed == 0)
		seed = (unsigned long long)now_us() ^
		       ((unsigned long long)getpid() << 32);
	if (seed == 0)
		seed = 1;
	rnd_state = seed;
	return seed;
}

static char pad_byte(int start, int i)
{
	return (char)(((unsigned int)start * 31U + (unsigned int)i) & 0x7f);
}

static void worker_exit(void *arg __attribute__((unused)))
{
	__atomic_sub_fetch(&workers_alive, 1, __ATOMIC_RELEASE);
}

/*
 * Sleeps ns in a worker; nanosleep is a cancellation point.
 *
 * Under ThreadSanitizer a cancellation must not take effect inside the
 * sleep: TSan's nanosleep interceptor hides every synchronisation the
 * cleanup handlers then do (google/sanitizers#646, open since 2016), so the
 * runner's atomic reference drop in its cleanup looks unordered and the
 * free a data race. There the sleep is not cancellable and the
 * cancellation takes effect right after it, at pthread_testcancel(): still
 * through the cleanup handlers, now outside any interceptor.
 */
static void worker_sleep(long long ns)
{
	struct timespec ts = ns_to_timespec(ns), rem;
	int old = PTHREAD_CANCEL_ENABLE, ignored;

	if (RACE_TSAN)
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
	if (RACE_TSAN) {
		pthread_setcancelstate(old, &ignored);
		pthread_testcancel();
	}
}

static void race_worker(void *arg)
{
	struct payload *pl = arg;
	long long step_ns = pl->wait_nsec / pl->steps;
	long long first_ns = step_ns + pl->wait_nsec % pl->steps;
	int i, old = PTHREAD_CANCEL_ENABLE, ignored;

	__atomic_add_fetch(&workers_entered, 1, __ATOMIC_RELAXED);
	if (thread_checks++ > 0)
		__atomic_add_fetch(&workers_reused, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&workers_alive, 1, __ATOMIC_ACQ_REL);
	pthread_cleanup_push(worker_exit, NULL);
	for (i = 0; i < pl->steps; i++) {
		if (i > 0)
			pthread_testcancel();
		if (pl->ignore_cancel)
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		worker_sleep(i == 0 ? first_ns : step_ns);
		if (pl->ignore_cancel)
			pthread_setcancelstate(old, &ignored);
	}
	for (i = 0; i < (int)sizeof(pl->pad); i++)
		pl->pad[i] = pad_byte(pl->start, i);
	pl->end = pl->start + 1;
	__atomic_add_fetch(&workers_completed, 1, __ATOMIC_RELAXED);
	pthread_cleanup_pop(1);
}

static bool payload_ok(const struct payload *d, const struct payload *orig)
{
	int i;

	if (d->wait_nsec != orig->wait_nsec || d->steps != orig->steps ||
	    d->ignore_cancel != orig->ignore_cancel ||
	    d->start != orig->start || d->end != d->start + 1)
		return false;
	for (i = 0; i < (int)sizeof(d->pad); i++)
		if (d->pad[i] != pad_byte(d->start, i))
			return false;
	return true;
}

static long long random_sleep_ns(const struct options *o)
{
	long long lo = (o->timeout_ms - o->noise_ms) * NSEC_PER_MSEC;
	long long hi = (o->timeout_ms + o->bias * o->noise_ms) * NSEC_PER_MSEC;
	long long ns;

	ns = lo + (long long)(rnd_next() % (uint64_t)(hi - lo + 1));
	if (ns < 0)
		ns = 0;
	if (ns > LONG_MAX)
		ns = LONG_MAX;
	return ns;
}

static void release_slot(struct slot *s)
{
	release_runner(s->rctx);
	s->rctx = NULL;
}

/*
 * Polls one runner. Returns true if it is still running (RUNNING or IDLE),
 * false if it was released or is CANCELLED.
 */
static bool poll_slot(struct slot *s, int idx, struct run_stats *st)
{
	int state = check_runner(s->rctx, &s->data, sizeof(s->data));

	if (state != RUNNER_DONE &&
	    memcmp(&s->data, &s->orig, sizeof(s->data)) != 0) {
		condlog(0, "runner %d: data copied in state %s", idx,
			runner_state_name(state));
		st->bad_data++;
		s->data = s->orig;
	}
	switch (state) {
	case RUNNER_IDLE:
	case RUNNER_RUNNING:
		if (s->cancelled) {
			condlog(0, "runner %d: %s after cancelled", idx,
				runner_state_name(state));
			st->bad_state++;
			release_slot(s);
			return false;
		}
		return true;
	case RUNNER_DONE:
		if (s->cancelled) {
			condlog(0, "runner %d: done after cancelled", idx);
			st->bad_state++;
		} else if (!payload_ok(&s->data, &s->orig)) {
			condlog(0, "runner %d: wrong payload: start %d end %d",
				idx, s->data.start, s->data.end);
			st->bad_data++;
		} else {
			st->completed++;
		}
		st->finished++;
		release_slot(s);
		return false;
	case RUNNER_DEAD:
		condlog(4, "runner %d: dead", idx);
		st->finished++;
		st->dead++;
		release_slot(s);
		return false;
	case RUNNER_CANCELLED:
		if (!s->cancelled) {
			condlog(4, "runner %d: cancelled", idx);
			s->cancelled = true;
			st->cancelled++;
		}
		return false;
	default:
		condlog(0, "runner %d: invalid state %d", idx, state);
		st->bad_state++;
		release_slot(s);
		return false;
	}
}

static void run_once(const struct options *o, long run, struct slot *slots,
		     struct run_stats *st)
{
	unsigned long timeout_us =
		o->timeout_ms ? (unsigned long)o->timeout_ms * 1000 : 1;
	long long max_wait_us =
		(o->timeout_ms + o->bias * o->noise_ms + RUN_GRACE_MS) * 1000 +
		RUNNER_START_DELAY_US;
	long long t0, last_poll = -1, now;
	long i, running;

	memset(st, 0, sizeof(*st));
	t0 = now_us();
	for (i = 0; i < o->nr_runners && !got_sigint; i++) {
		struct slot *s = &slots[i];

		memset(s, 0, sizeof(*s));
		s->orig.wait_nsec = (long)random_sleep_ns(o);
		s->orig.steps = (int)o->steps;
		s->orig.ignore_cancel = o->ignore_cancel;
		s->orig.start = (int)((run * o->nr_runners + i) & 0x3fffffff);
		s->orig.end = s->orig.start;
		s->data = s->orig;
		if (RACE_PERSISTENT)
			s->rctx = get_persistent_runner(&workers[i], race_worker,
							&s->data, sizeof(s->data),
							timeout_us);
		else
			s->rctx = get_runner(race_worker, &s->data,
					     sizeof(s->data), timeout_us);
		if (!s->rctx) {
			condlog(0, "run %ld: get_runner failed for runner %ld",
				run, i);
			st->create_failed++;
			continue;
		}
		st->total++;
	}
	for (; i < o->nr_runners; i++)
		slots[i].rctx = NULL;

	/* all deadlines are at most timeout_us after this point */
	now = now_us();
	st->create_us = now - t0;
	t0 = now;
	for (;;) {
		now = now_us();
		if (last_poll >= 0 && now - last_poll > st->max_gap_us)
			st->max_gap_us = now - last_poll;
		last_poll = now;
		st->polls++;
		running = 0;
		for (i = 0; i < o->nr_runners; i++) {
			if (slots[i].rctx && poll_slot(&slots[i], (int)i, st))
				running++;
		}
		if (running == 0 || got_sigint)
			break;
		if (now_us() - t0 >= max_wait_us) {
			st->running = running;
			condlog(0, "run %ld: %ld runners still running", run,
				running);
			break;
		}
		main_sleep_ms(o->poll_ms);
	}
	st->interrupted = got_sigint;
	if (st->interrupted)
		st->running = 0;
	for (i = 0; i < o->nr_runners; i++) {
		if (!slots[i].rctx)
			continue;
		if (slots[i].cancelled)
			st->abandoned++;
		release_slot(&slots[i]);
	}
	st->errors = st->running + st->bad_data + st->bad_state;
	st->errors += st->create_failed;
	st->duration_us = now_us() - t0;
}

/* Minimal JSON writer for the RESULT and SUMMARY lines */
static bool json_first;

static void json_begin(const char *tag)
{
	printf("%s {", tag);
	json_first = true;
}

static void json_key(const char *key)
{
	printf("%s\"%s\":", json_first ? "" : ",", key);
	json_first = false;
}

static void json_num(const char *key, long long val)
{
	json_key(key);
	printf("%lld", val);
}

static void json_ms(const char *key, long long usec)
{
	json_key(key);
	printf("%.3f", (double)usec / 1000);
}

static void json_bool(const char *key, bool val)
{
	json_key(key);
	printf("%s", val ? "true" : "false");
}

static void json_object(const char *key)
{
	json_key(key);
	printf("{");
	json_first = true;
}

static void json_end(void)
{
	printf("}");
	json_first = false;
}

static void print_run(long run, const struct run_stats *st)
{
	printf("run %4ld: total %5ld, finished %5ld, completed %5ld, ", run,
	       st->total, st->finished, st->completed);
	printf("errors %ld%s\n", st->errors,
	       st->interrupted ? " (interrupted)" : "");
	json_begin("RESULT");
	json_num("run", run);
	json_num("total", st->total);
	json_num("finished", st->finished);
	json_num("completed", st->completed);
	json_num("cancelled", st->cancelled);
	json_num("dead", st->dead);
	json_num("abandoned", st->abandoned);
	json_num("running", st->running);
	json_num("bad_data", st->bad_data);
	json_num("bad_state", st->bad_state);
	json_num("create_failed", st->create_failed);
	json_num("errors", st->errors);
	json_num("polls", st->polls);
	json_ms("max_gap_ms", st->max_gap_us);
	json_ms("create_ms", st->create_us);
	json_ms("duration_ms", st->duration_us);
	json_bool("interrupted", st->interrupted);
	json_end();
	printf("\n");
	fflush(stdout);
}

static void add_run(struct summary *sum, const struct run_stats *st)
{
	sum->runs++;
	if (st->errors)
		sum->failed_runs++;
	sum->errors += st->errors;
	sum->total += st->total;
	sum->finished += st->finished;
	sum->completed += st->completed;
	sum->cancelled += st->cancelled;
	sum->dead += st->dead;
	sum->abandoned += st->abandoned;
	sum->running += st->running;
	sum->bad_data += st->bad_data;
	sum->bad_state += st->bad_state;
	sum->create_failed += st->create_failed;
	if (st->max_gap_us > sum->max_gap_us)
		sum->max_gap_us = st->max_gap_us;
	if (st->create_us > sum->max_create_us)
		sum->max_create_us = st->create_us;
	if (st->interrupted)
		sum->interrupted = true;
}

static bool on_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

#ifdef HAVE_VALGRIND_H
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
	return preload && strstr(preload, "vgpreload");
}

static bool asan_leak_check(void)
{
	const char *opts = getenv("ASAN_OPTIONS");

	if (!RACE_ASAN)
		return false;
	/* detect_leaks defaults to 1 on x86_64 and aarch64 Linux */
	return !opts || !strstr(opts, "detect_leaks=0");
}

/* Leaks can only be seen if no runner thread is alive at exit */
static bool need_straggler_wait(void)
{
	const char *env = getenv("MPATHTEST_STRAGGLER_WAIT");

	if (env && *env)
		return strcmp(env, "0") != 0;
	return on_valgrind() || asan_leak_check();
}

/* Number of threads of this process, -1 if unknown */
static long count_threads(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	long n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/*
 * A memory checker reports the context of a runner whose thread is still
 * alive as reachable (or its TLS as possibly lost). Wait until the workers
 * have returned and their threads are gone, so that leaks are visible.
 * Returns the number of threads still alive after STRAGGLER_MAX_MS.
 */
static long wait_for_stragglers(long base_threads, long long *waited_ms)
{
	long long start = now_us();
	long long min_us = STRAGGLER_MIN_MS * 1000LL + RUNNER_START_DELAY_US;
	long alive, threads, extra;

	for (;;) {
		long long elapsed = now_us() - start;

		alive = __atomic_load_n(&workers_alive, __ATOMIC_ACQUIRE);
		threads = count_threads();
		extra = 0;
		if (threads >= 0 && base_threads >= 0)
			extra = threads - base_threads;
		if (extra < alive)
			extra = alive;
		if ((extra <= 0 && elapsed >= min_us) ||
		    elapsed >= STRAGGLER_MAX_MS * 1000LL)
			break;
		/* not main_sleep_ms(): keep waiting after SIGINT */
		usleep(10000);
	}
	*waited_ms = (now_us() - start) / 1000;
	if (extra > 0)
		condlog(0, "%ld runner threads still alive after %lld ms",
			extra, *waited_ms);
	else
		condlog(3, "runner threads gone after %lld ms", *waited_ms);
	return extra > 0 ? extra : 0;
}

static void on_sigint(int sig __attribute__((unused)))
{
	got_sigint = 1;
}

static int run_tests(const struct options *o, struct summary *sum)
{
	struct slot *slots;
	struct run_stats st;
	long i, run, base_threads = count_threads();

	slots = calloc((size_t)o->nr_runners, sizeof(*slots));
	workers = calloc((size_t)o->nr_runners, sizeof(*workers));
	if (!slots || !workers) {
		condlog(0, "out of memory");
		free(slots);
		free(workers);
		return 1;
	}
	for (run = 1; run <= o->repeats && !got_sigint; run++) {
		run_once(o, run, slots, &st);
		print_run(run, &st);
		add_run(sum, &st);
	}
	for (i = 0; i < o->nr_runners; i++)
		release_persistent_runner(workers[i]);
	free(workers);
	workers = NULL;
	free(slots);
	if (need_straggler_wait()) {
		sum->straggler_wait = true;
		sum->stragglers = wait_for_stragglers(base_threads,
						      &sum->straggler_wait_ms);
	}
	sum->workers_entered = __atomic_load_n(&workers_entered, MO_ACQ);
	sum->workers_completed = __atomic_load_n(&workers_completed, MO_ACQ);
	sum->workers_reused = __atomic_load_n(&workers_reused, MO_ACQ);
	sum->done = true;
	if (got_sigint) {
		/* also if SIGINT came between two runs */
		sum->interrupted = true;
		condlog(2, "interrupted after %ld runs", sum->runs);
		return 0;
	}
	return (sum->failed_runs || sum->stragglers) ? 1 : 0;
}

static void print_options(const struct options *o)
{
	json_object("options");
	json_num("N", o->nr_runners);
	json_num("p", o->poll_ms);
	json_num("t", o->timeout_ms);
	json_num("n", o->noise_ms);
	json_num("b", o->bias);
	json_num("s", o->steps);
	json_num("k", o->kill_ms);
	json_num("r", o->repeats);
	json_bool("i", o->ignore_cancel);
	json_num("v", o->verbosity);
	json_end();
}

static void print_summary(const struct options *o, const struct summary *s,
			  unsigned long long seed, int child_exit,
			  int child_signal, int exit_code)
{
	json_begin("SUMMARY");
	json_num("runs", s->runs);
	json_num("failed_runs", s->failed_runs);
	json_num("errors", s->errors);
	json_num("total", s->total);
	json_num("finished", s->finished);
	json_num("completed", s->completed);
	json_num("cancelled", s->cancelled);
	json_num("dead", s->dead);
	json_num("abandoned", s->abandoned);
	json_num("running", s->running);
	json_num("bad_data", s->bad_data);
	json_num("bad_state", s->bad_state);
	json_num("create_failed", s->create_failed);
	json_num("workers_entered", s->workers_entered);
	json_num("workers_completed", s->workers_completed);
	json_num("workers_reused", s->workers_reused);
	json_bool("straggler_wait", s->straggler_wait);
	json_num("straggler_wait_ms", s->straggler_wait_ms);
	json_num("stragglers", s->stragglers);
	json_ms("max_gap_ms", s->max_gap_us);
	json_ms("max_create_ms", s->max_create_us);
	json_bool("interrupted", s->interrupted);
	json_bool("child_done", s->done);
	json_num("child_exit", child_exit);
	json_num("child_signal", child_signal);
	json_num("exit", exit_code);
	/* as a string: JSON numbers lose precision above 2^53 */
	json_key("seed");
	printf("\"%llu\"", seed);
	json_num("start_delay_us", RUNNER_START_DELAY_US);
	json_num("stack_size", RUNNER_STACK_SIZE);
	json_bool("asan", RACE_ASAN);
	json_bool("tsan", RACE_TSAN);
	json_bool("persistent", RACE_PERSISTENT);
	json_bool("valgrind", on_valgrind());
	print_options(o);
	json_end();
	printf("\n");
}

/* Waits for the child, sending SIGINT after kill_ms or on our own SIGINT */
static int wait_child(pid_t pid, long kill_ms, int *status)
{
	long long start = now_us();
	bool sent = false;
	pid_t rc;

	for (;;) {
		rc = waitpid(pid, status, WNOHANG);
		if (rc == pid)
			return 0;
		if (rc < 0 && errno != EINTR) {
			condlog(0, "waitpid failed: %m");
			return -1;
		}
		if (!sent && kill_ms && now_us() - start >= kill_ms * 1000)
			got_sigint = 1;
		if (!sent && got_sigint) {
			condlog(3, "sending SIGINT to %d", (int)pid);
			kill(pid, SIGINT);
			sent = true;
		}
		usleep(PARENT_POLL_MS * 1000);
	}
}

int main(int argc, char *argv[])
{
	struct options o;
	struct summary *sum;
	struct sigaction sa;
	unsigned long long seed;
	int status = 0, child_exit = -1, child_signal = 0, ret;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_options(argc, argv, &o))
		return 1;
	seed = init_seed();
	condlog(3, "random seed %llu", seed);

	sum = mmap(NULL, sizeof(*sum), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sum == MAP_FAILED) {
		condlog(0, "mmap failed: %m");
		return 130;
	}
	memset(sum, 0, sizeof(*sum));

	/* installed before fork() so that the child never misses SIGINT */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		condlog(0, "fork failed: %m");
		ret = 130;
		goto out;
	}
	if (pid == 0) {
		ret = run_tests(&o, sum);
		munmap(sum, sizeof(*sum));
		exit(ret);
	}

	if (wait_child(pid, o.kill_ms, &status) < 0) {
		ret = 130;
	} else if (WIFSIGNALED(status)) {
		child_signal = WTERMSIG(status);
		condlog(0, "test process %d died from signal %d", (int)pid,
			child_signal);
		ret = 130;
	} else if (WIFEXITED(status)) {
		child_exit = WEXITSTATUS(status);
		ret = child_exit ? 1 : 0;
	} else {
		ret = 130;
	}
out:
	print_summary(&o, sum, seed, child_exit, child_signal, ret);
	if (child_exit > 0 && sum->failed_runs == 0)
		condlog(0, "test process exited with status %d", child_exit);
	printf("TOTAL NUMBER OF FAILED RUNS: %ld\n", sum->failed_runs);
	munmap(sum, sizeof(*sum));
	return ret;
}
