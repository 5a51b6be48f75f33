// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * What a runner round trip costs against its floor: get_runner(), polling
 * check_runner() until RUNNER_DONE and release_runner() for a trivial
 * worker, against pthread_create() + pthread_join() of the same worker on
 * a thread with the runner's stack size. Also with many runners (threads)
 * in flight at once. The same round trips through persistent runners
 * (get_persistent_runner(): one per "path", its worker thread kept alive
 * and woken for the next check). The sides alternate, repetition by
 * repetition, so that drift of the machine hits all alike. Prints one JSON
 * object.
 *
 *   runner-bench [-n ROUNDS] [-f IN_FLIGHT] [-r REPETITIONS] [-o PART]
 *
 * -o runs one part alone, REPETITIONS times without warm-up (PART is one of
 * the JSON names below: persistentSequential, ...), for counting its system
 * calls per round trip: strace -f -c -e trace=futex runner-bench -o PART.
 *
 * Wall and CPU (user + system of every thread, getrusage) are per
 * repetition, in seconds; "polls" counts the check_runner() calls of the
 * runner side, so the caller's share of the CPU time shows.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

struct payload {
	long in;
	long out;
	/* what the thread found out about its own stack */
	size_t stacksize;
	size_t guardsize;
};

struct sample {
	double wall;
	double cpu;
	long polls;
};

/* The stack size of a runner's thread, found by a probe runner */
static size_t runner_stack;

static void worker(void *data)
{
	struct payload *p = data;

	p->out = p->in + 1;
}

static void *thread_worker(void *data)
{
	worker(data);
	return NULL;
}

/* A worker that reports the attributes of the thread it runs in */
static void probe_worker(void *data)
{
	struct payload *p = data;
	pthread_attr_t attr;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	pthread_attr_getstacksize(&attr, &p->stacksize);
	pthread_attr_getguardsize(&attr, &p->guardsize);
	pthread_attr_destroy(&attr);
	p->out = p->in + 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what)
{
	fprintf(stderr, "runner-bench: %s\n", what);
	exit(1);
}

static void fail_errno(const char *what, int err)
{
	fprintf(stderr, "runner-bench: %s: %s\n", what, strerror(err));
	exit(1);
}

/*
 * Waits for a runner the way a busy caller would: poll, yield, poll. The
 * caller spins on its own CPU meanwhile; that is part of the round trip.
 */
static long collect(struct runner_context *rctx, struct payload *p)
{
	long polls = 1;
	int state;

	while ((state = check_runner(rctx, p, sizeof(*p))) == RUNNER_RUNNING) {
		sched_yield();
		polls++;
	}
	if (state != RUNNER_DONE || p->out != p->in + 1)
		fail("a runner did not complete");
	release_runner(rctx);
	return polls;
}

static struct runner_context *start(struct payload *p)
{
	struct runner_context *rctx;

	rctx = get_runner(worker, p, sizeof(*p), 0);
	if (!rctx)
		fail("get_runner failed");
	return rctx;
}

static void thread_attr(pthread_attr_t *attr)
{
	int rc = pthread_attr_init(attr);

	if (!rc)
		rc = pthread_attr_setstacksize(attr, runner_stack);
	if (rc)
		fail_errno("pthread_attr", rc);
}

static void create(pthread_t *t, pthread_attr_t *attr, struct payload *p)
{
	int rc = pthread_create(t, attr, thread_worker, p);

	if (rc)
		fail_errno("pthread_create", rc);
}

static void join(pthread_t t, const struct payload *p)
{
	int rc = pthread_join(t, NULL);

	if (rc)
		fail_errno("pthread_join", rc);
	if (p->out != p->in + 1)
		fail("a thread did not complete");
}

/* The persistent runners: one for the sequential round trips, one per runner in flight */
static struct persistent_runner *seq_worker;
static struct persistent_runner **flight_workers;

static struct runner_context *
start_persistent(struct persistent_runner **pr, struct payload *p)
{
	struct runner_context *rctx;

	rctx = get_persistent_runner(pr, worker, p, sizeof(*p), 0);
	if (!rctx)
		fail("get_persistent_runner failed");
	return rctx;
}

static struct sample persistent_sequential(int rounds)
{
	struct sample s = { 0 };
	double w0 = now_s(), c0 = cpu_s();
	int i;

	for (i = 0; i < rounds; i++) {
		struct payload p = { .in = i };

		s.polls += collect(start_persistent(&seq_worker, &p), &p);
	}
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	return s;
}

static struct sample persistent_in_flight(int n)
{
	struct runner_context **r = calloc(n, sizeof(*r));
	struct payload *p = calloc(n, sizeof(*p));
	struct sample s = { 0 };
	double w0, c0;
	int i;

	if (!r || !p)
		fail("out of memory");
	w0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		p[i].in = i;
		r[i] = start_persistent(&flight_workers[i], &p[i]);
	}
	for (i = 0; i < n; i++)
		s.polls += collect(r[i], &p[i]);
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	free(r);
	free(p);
	return s;
}

static struct sample runner_sequential(int rounds)
{
	struct sample s = { 0 };
	double w0 = now_s(), c0 = cpu_s();
	int i;

	for (i = 0; i < rounds; i++) {
		struct payload p = { .in = i };

		s.polls += collect(start(&p), &p);
	}
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	return s;
}

static struct sample pthread_sequential(int rounds)
{
	struct sample s = { 0 };
	pthread_attr_t attr;
	double w0, c0;
	int i;

	thread_attr(&attr);
	w0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < rounds; i++) {
		struct payload p = { .in = i };
		pthread_t t;

		create(&t, &attr, &p);
		join(t, &p);
	}
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	pthread_attr_destroy(&attr);
	return s;
}

static struct sample runner_in_flight(int n)
{
	struct runner_context **r = calloc(n, sizeof(*r));
	struct payload *p = calloc(n, sizeof(*p));
	struct sample s = { 0 };
	double w0, c0;
	int i;

	if (!r || !p)
		fail("out of memory");
	w0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		p[i].in = i;
		r[i] = start(&p[i]);
	}
	for (i = 0; i < n; i++)
		s.polls += collect(r[i], &p[i]);
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	free(r);
	free(p);
	return s;
}

static struct sample pthread_in_flight(int n)
{
	pthread_t *t = calloc(n, sizeof(*t));
	struct payload *p = calloc(n, sizeof(*p));
	struct sample s = { 0 };
	pthread_attr_t attr;
	double w0, c0;
	int i;

	if (!t || !p)
		fail("out of memory");
	thread_attr(&attr);
	w0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		p[i].in = i;
		create(&t[i], &attr, &p[i]);
	}
	for (i = 0; i < n; i++)
		join(t[i], &p[i]);
	s.wall = now_s() - w0;
	s.cpu = cpu_s() - c0;
	pthread_attr_destroy(&attr);
	free(t);
	free(p);
	return s;
}

/* Runs one probe runner: the stack and guard size of runner threads */
static void probe_runner(size_t *guard)
{
	struct payload p = { .in = 1 };
	struct runner_context *rctx;

	rctx = get_runner(probe_worker, &p, sizeof(p), 0);
	if (!rctx)
		fail("get_runner failed");
	collect(rctx, &p);
	if (!p.stacksize)
		fail("cannot read the stack size of a runner thread");
	runner_stack = p.stacksize;
	*guard = p.guardsize;
}

static void print_samples(const char *name, const struct sample *s, int reps,
			  int ops, int last)
{
	int i;

	printf("\"%s\":{\"ops\":%d,\"wall\":[", name, ops);
	for (i = 0; i < reps; i++)
		printf("%s%.9f", i ? "," : "", s[i].wall);
	printf("],\"cpu\":[");
	for (i = 0; i < reps; i++)
		printf("%s%.9f", i ? "," : "", s[i].cpu);
	printf("],\"polls\":[");
	for (i = 0; i < reps; i++)
		printf("%s%ld", i ? "," : "", s[i].polls);
	printf("]}%s", last ? "" : ",");
}

static int parse_count(const char *opt, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < 1 || n > INT_MAX) {
		fprintf(stderr, "runner-bench: %s needs a positive count\n", opt);
		exit(2);
	}
	return n;
}

static const char *const part_names[] = {
	"runnerSequential", "pthreadSequential",    "runnerInFlight",
	"pthreadInFlight",  "persistentSequential", "persistentInFlight",
};

/* One part alone (-o), reps times */
static void run_part(int part, int rounds, int in_flight, int reps)
{
	struct sample *s = calloc(reps, sizeof(*s));
	int i, ops = part == 2 || part == 3 || part == 5 ? in_flight : rounds;

	if (!s)
		fail("out of memory");
	for (i = 0; i < reps; i++) {
		switch (part) {
		case 0:
			s[i] = runner_sequential(rounds);
			break;
		case 1:
			s[i] = pthread_sequential(rounds);
			break;
		case 2:
			s[i] = runner_in_flight(in_flight);
			break;
		case 3:
			s[i] = pthread_in_flight(in_flight);
			break;
		case 4:
			s[i] = persistent_sequential(rounds);
			break;
		default:
			s[i] = persistent_in_flight(in_flight);
			break;
		}
	}
	printf("{");
	print_samples(part_names[part], s, reps, ops, 1);
	printf("}\n");
	free(s);
}

int main(int argc, char **argv)
{
	int rounds = 20000, in_flight = 1000, reps = 7, opt, i, part = -1;
	struct sample *rs, *ps, *rf, *pf, *qs, *qf;
	size_t guard = 0;

	while ((opt = getopt(argc, argv, "n:f:r:o:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = parse_count("-n", optarg);
			break;
		case 'f':
			in_flight = parse_count("-f", optarg);
			break;
		case 'r':
			reps = parse_count("-r", optarg);
			break;
		case 'o':
			for (part = 5; part >= 0; part--)
				if (!strcmp(optarg, part_names[part]))
					break;
			if (part < 0) {
				fprintf(stderr, "runner-bench: no part %s\n",
					optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr,
				"usage: runner-bench [-n ROUNDS] [-f IN_FLIGHT] [-r REPETITIONS] [-o PART]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "runner-bench: unexpected argument %s\n",
			argv[optind]);
		return 2;
	}
	flight_workers = calloc(in_flight, sizeof(*flight_workers));
	if (!flight_workers)
		fail("out of memory");
	if (part >= 0) {
		/* the stack size of the pthread side: a runner's */
		probe_runner(&guard);
		run_part(part, rounds, in_flight, reps);
		release_persistent_runner(seq_worker);
		for (i = 0; i < in_flight; i++)
			release_persistent_runner(flight_workers[i]);
		free(flight_workers);
		return 0;
	}
	rs = calloc(reps, sizeof(*rs));
	ps = calloc(reps, sizeof(*ps));
	rf = calloc(reps, sizeof(*rf));
	pf = calloc(reps, sizeof(*pf));
	qs = calloc(reps, sizeof(*qs));
	qf = calloc(reps, sizeof(*qf));
	if (!rs || !ps || !rf || !pf || !qs || !qf)
		fail("out of memory");
	probe_runner(&guard);
	/* warm up: thread stacks cached, pages touched, on both sides */
	runner_sequential(rounds / 10 + 1);
	pthread_sequential(rounds / 10 + 1);
	runner_in_flight(in_flight);
	pthread_in_flight(in_flight);
	/* the persistent runners' threads are started here */
	persistent_sequential(rounds / 10 + 1);
	persistent_in_flight(in_flight);
	/* interleaved, so that drift of the machine hits both sides alike */
	for (i = 0; i < reps; i++) {
		rs[i] = runner_sequential(rounds);
		ps[i] = pthread_sequential(rounds);
		rf[i] = runner_in_flight(in_flight);
		pf[i] = pthread_in_flight(in_flight);
		qs[i] = persistent_sequential(rounds);
		qf[i] = persistent_in_flight(in_flight);
	}
	printf("{\"runnerStack\":%zu,\"runnerGuard\":%zu,", runner_stack, guard);
	print_samples("runnerSequential", rs, reps, rounds, 0);
	print_samples("pthreadSequential", ps, reps, rounds, 0);
	print_samples("runnerInFlight", rf, reps, in_flight, 0);
	print_samples("pthreadInFlight", pf, reps, in_flight, 0);
	print_samples("persistentSequential", qs, reps, rounds, 0);
	print_samples("persistentInFlight", qf, reps, in_flight, 1);
	printf("}\n");
	free(rs);
	free(ps);
	free(rf);
	free(pf);
	free(qs);
	free(qf);
	release_persistent_runner(seq_worker);
	for (i = 0; i < in_flight; i++)
		release_persistent_runner(flight_workers[i]);
	free(flight_workers);
	return 0;
}
