// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The floors of a check cycle over many real paths: one TEST UNIT READY per
 * device through SG_IO, the way the TUR checker sends it (32-byte sense
 * buffer, the checker timeout as SG_IO timeout), without any checker.
 *
 *   sg-cycle [options] DEVICE...          a plain loop in one thread
 *   sg-cycle --threads [options] DEVICE... pthread_create() per path (the
 *                                         runner's stack size), each
 *                                         thread sends its TUR, then
 *                                         pthread_join() of all
 *   sg-cycle --workers [options] DEVICE... one thread per path started
 *                                         once (the same stack size),
 *                                         waiting on its own semaphore:
 *                                         each cycle the main thread
 *                                         posts every path's, each
 *                                         worker sends its TUR and posts
 *                                         back, the main thread waits
 *                                         for all (the best a kept-alive
 *                                         thread per path can do: the
 *                                         wake-up and nothing else)
 *   sg-cycle --pool N [options] DEVICE... N threads started once, sharing
 *                                         one queue: each cycle the main
 *                                         thread queues every path,
 *                                         waking a waiting thread only if
 *                                         none is awake to take it; a
 *                                         thread takes paths until the
 *                                         queue is empty (what handing
 *                                         checks to a few threads instead
 *                                         of one per path can do)
 *   sg-cycle --clear-ua DEVICE...         TURs until GOOD on every device
 *                                         (consumes the power-on UNIT
 *                                         ATTENTION), then exits
 *
 * Options: --cycles N (measured cycles, default 5), --warmup N (cycles run
 * first and reported as warm-up, default 1), --timeout S (default 1),
 * --batch (every thread moves itself to SCHED_BATCH, as the persistent
 * runner's workers do under a SCHED_OTHER caller: waking one never
 * preempts the main thread).
 *
 * One JSON object per line: "started" (paths, memory after opening every
 * device), one "cycle" per cycle (wall and CPU ms, answers, memory) and
 * "finished". Memory figures are kB from /proc/self/status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <scsi/sg.h>

#define SENSE_LEN 32
/* the runner's RUNNER_STACK_SIZE, raised to PTHREAD_STACK_MIN like it */
#define STACK_SIZE 4096
#define MAX_TRIES 5

struct path {
	const char *name;
	int fd;
	/* the answer of the last TUR */
	bool good;
	unsigned char sense_key;
	pthread_t thr;
	/* --workers: posted for the path's next TUR */
	sem_t go;
};

enum mode { MODE_LOOP, MODE_THREADS, MODE_WORKERS, MODE_POOL };
static const char *const mode_name[] = { "loop", "threads", "workers", "pool" };

/* --workers: posted by each worker after its TUR; set to end them */
static sem_t done;
static bool quit;

static unsigned int timeout_ms = 1000;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sg-cycle: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* --batch: each thread moves itself to SCHED_BATCH */
static bool use_batch;

static void batch_self(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (use_batch && sched_setscheduler(0, SCHED_BATCH, &sp))
		die("sched_setscheduler: %s", strerror(errno));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* A "Key:   N kB" line of /proc/self/status, in kB; -1 if missing */
static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t len = strlen(key);
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* One TEST UNIT READY, as the TUR checker sends it */
static void tur(struct path *p)
{
	unsigned char cdb[6] = { 0 };
	unsigned char sense[SENSE_LEN];
	struct sg_io_hdr io;

	memset(sense, 0, sizeof(sense));
	memset(&io, 0, sizeof(io));
	io.interface_id = 'S';
	io.cmd_len = sizeof(cdb);
	io.mx_sb_len = sizeof(sense);
	io.dxfer_direction = SG_DXFER_NONE;
	io.cmdp = cdb;
	io.sbp = sense;
	io.timeout = timeout_ms;
	p->sense_key = 0;
	if (ioctl(p->fd, SG_IO, &io) < 0) {
		p->good = false;
		return;
	}
	p->good = (io.info & SG_INFO_OK_MASK) == SG_INFO_OK;
	if (io.sb_len_wr > 2 && (sense[0] & 0x7f) >= 0x72)
		p->sense_key = sense[1] & 0x0f;
	else if (io.sb_len_wr > 2)
		p->sense_key = sense[2] & 0x0f;
}

static void *tur_thread(void *arg)
{
	batch_self();
	tur(arg);
	return NULL;
}

static void cycle_loop(struct path *paths, int n)
{
	int i;

	for (i = 0; i < n; i++)
		tur(&paths[i]);
}

static void cycle_threads(struct path *paths, int n, const pthread_attr_t *attr)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		rc = pthread_create(&paths[i].thr, attr, tur_thread, &paths[i]);
		if (rc)
			die("pthread_create (path %d): %s", i, strerror(rc));
	}
	for (i = 0; i < n; i++) {
		rc = pthread_join(paths[i].thr, NULL);
		if (rc)
			die("pthread_join: %s", strerror(rc));
	}
}

static void sem_wait_retry(sem_t *sem)
{
	while (sem_wait(sem) != 0)
		if (errno != EINTR)
			die("sem_wait: %s", strerror(errno));
}

/* A kept-alive worker: one TUR per post, then a post back */
static void *worker_thread(void *arg)
{
	struct path *p = arg;

	batch_self();
	for (;;) {
		sem_wait_retry(&p->go);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			return NULL;
		tur(p);
		sem_post(&done);
	}
}

static void start_workers(struct path *paths, int n, const pthread_attr_t *attr)
{
	int i, rc;

	if (sem_init(&done, 0, 0))
		die("sem_init: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (sem_init(&paths[i].go, 0, 0))
			die("sem_init: %s", strerror(errno));
		rc = pthread_create(&paths[i].thr, attr, worker_thread, &paths[i]);
		if (rc)
			die("pthread_create (path %d): %s", i, strerror(rc));
	}
}

/* The posts order each worker's answer before the main thread reads it */
static void cycle_workers(struct path *paths, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sem_post(&paths[i].go);
	for (i = 0; i < n; i++)
		sem_wait_retry(&done);
}

/*
 * --pool N: N threads share one queue of paths. The main thread queues
 * every path, waking a waiting thread only when none is awake to take it;
 * a thread takes paths until the queue is empty, then waits.
 */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t pool_go;
static int pool_size, pool_waiting, pool_woken;
static int *pool_queue, pool_head, pool_tail, pool_finished, pool_paths;
static struct path *pool_path;

static void *pool_thread(void *arg)
{
	int i;

	(void)arg;
	batch_self();
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		while (pool_head == pool_tail && !quit) {
			pool_waiting++;
			pthread_mutex_unlock(&pool_lock);
			sem_wait_retry(&pool_go);
			pthread_mutex_lock(&pool_lock);
			pool_waiting--;
			if (pool_woken > 0)
				pool_woken--;
		}
		if (pool_head == pool_tail)
			break;
		i = pool_queue[pool_head++];
		pthread_mutex_unlock(&pool_lock);
		tur(&pool_path[i]);
		pthread_mutex_lock(&pool_lock);
		if (++pool_finished == pool_paths)
			sem_post(&done);
	}
	pthread_mutex_unlock(&pool_lock);
	return NULL;
}

static pthread_t *start_pool(struct path *paths, int n, const pthread_attr_t *attr)
{
	pthread_t *thr = calloc(pool_size, sizeof(*thr));
	int i, rc;

	pool_queue = calloc(n, sizeof(*pool_queue));
	if (!thr || !pool_queue)
		die("out of memory");
	pool_path = paths;
	pool_paths = n;
	if (sem_init(&done, 0, 0) || sem_init(&pool_go, 0, 0))
		die("sem_init: %s", strerror(errno));
	for (i = 0; i < pool_size; i++) {
		rc = pthread_create(&thr[i], attr, pool_thread, NULL);
		if (rc)
			die("pthread_create (pool thread %d): %s", i,
			    strerror(rc));
	}
	return thr;
}

static void cycle_pool(int n)
{
	int i;

	pthread_mutex_lock(&pool_lock);
	pool_head = pool_tail = pool_finished = 0;
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < n; i++) {
		bool wake;

		pthread_mutex_lock(&pool_lock);
		pool_queue[pool_tail++] = i;
		wake = pool_waiting > pool_woken;
		if (wake)
			pool_woken++;
		pthread_mutex_unlock(&pool_lock);
		if (wake)
			sem_post(&pool_go);
	}
	sem_wait_retry(&done);
}

static void stop_pool(pthread_t *thr)
{
	int i;

	pthread_mutex_lock(&pool_lock);
	__atomic_store_n(&quit, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < pool_size; i++)
		sem_post(&pool_go);
	for (i = 0; i < pool_size; i++)
		pthread_join(thr[i], NULL);
	free(thr);
	free(pool_queue);
}

static void stop_workers(struct path *paths, int n)
{
	int i, rc;

	__atomic_store_n(&quit, true, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		sem_post(&paths[i].go);
	for (i = 0; i < n; i++) {
		rc = pthread_join(paths[i].thr, NULL);
		if (rc)
			die("pthread_join: %s", strerror(rc));
		sem_destroy(&paths[i].go);
	}
	sem_destroy(&done);
}

/* TURs until GOOD on every path; returns the number of paths never GOOD */
static int clear_ua(struct path *paths, int n)
{
	int i, try, ua = 0, other = 0, bad = 0;

	for (i = 0; i < n; i++) {
		for (try = 0; try < MAX_TRIES; try++) {
			tur(&paths[i]);
			if (paths[i].good)
				break;
			if (paths[i].sense_key == 0x6)
				ua++;
			else
				other++;
		}
		if (!paths[i].good)
			bad++;
	}
	printf("{\"event\":\"clear-ua\",\"paths\":%d,\"unitAttentions\":%d,\"otherErrors\":%d,\"neverGood\":%d}\n",
	       n, ua, other, bad);
	return bad;
}

static long parse_num(const char *opt, const char *v, long min)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < min || n > INT_MAX)
		die("bad value for %s: %s", opt, v);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads",  no_argument,	  NULL, 'T' },
		{ "workers",  no_argument,	  NULL, 'W' },
		{ "clear-ua", no_argument,	   NULL, 'U' },
		{ "batch",	   no_argument,	NULL, 'B' },
		{ "pool",	  required_argument, NULL, 'P' },
		{ "cycles",   required_argument, NULL, 'n' },
		{ "warmup",   required_argument, NULL, 'w' },
		{ "timeout",  required_argument, NULL, 't' },
		{ NULL,	0,		   NULL, 0   },
	};
	int cycles = 5, warmup = 1, n, i, c, opt;
	enum mode mode = MODE_LOOP;
	bool clear = false, batch = false;
	size_t stack = STACK_SIZE;
	struct path *paths;
	pthread_t *pool = NULL;
	pthread_attr_t attr;
	struct rlimit rl;
	long rss0;
	double t0;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			mode = MODE_THREADS;
			break;
		case 'W':
			mode = MODE_WORKERS;
			break;
		case 'U':
			clear = true;
			break;
		case 'B':
			batch = true;
			break;
		case 'P':
			mode = MODE_POOL;
			pool_size = parse_num("--pool", optarg, 1);
			break;
		case 'n':
			cycles = parse_num("--cycles", optarg, 1);
			break;
		case 'w':
			warmup = parse_num("--warmup", optarg, 0);
			break;
		case 't':
			timeout_ms = parse_num("--timeout", optarg, 1) * 1000;
			break;
		default:
			fprintf(stderr,
				"usage: sg-cycle [--threads | --workers | --pool N] [--batch] [--cycles N] [--warmup N] [--timeout S] DEVICE...\n"
				"       sg-cycle --clear-ua DEVICE...\n");
			return 2;
		}
	}
	n = argc - optind;
	if (n < 1)
		die("no devices");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	paths = calloc(n, sizeof(*paths));
	if (!paths)
		die("out of memory");
	rss0 = status_kb("VmRSS");
	for (i = 0; i < n; i++) {
		paths[i].name = argv[optind + i];
		/* as the checker host opens them */
		paths[i].fd = open(paths[i].name, O_RDONLY | O_NONBLOCK);
		if (paths[i].fd < 0)
			die("cannot open %s: %s", paths[i].name, strerror(errno));
	}
	if (clear)
		return clear_ua(paths, n) ? 1 : 0;
	if (stack < (size_t)PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, stack))
		die("cannot set the thread stack size");
	use_batch = batch;
	/* the workers' memory shows in the started record */
	if (mode == MODE_WORKERS)
		start_workers(paths, n, &attr);
	if (mode == MODE_POOL)
		pool = start_pool(paths, n, &attr);
	t0 = now_ms();
	printf("{\"event\":\"started\",\"mode\":\"%s\",\"paths\":%d,\"clock\":%.3f,\"rssBeforeKb\":%ld,\"rssKb\":%ld,\"hwmKb\":%ld,\"stack\":%zu}\n",
	       mode_name[mode], n, t0, rss0, status_kb("VmRSS"),
	       status_kb("VmHWM"), stack);
	fflush(stdout);
	for (c = 0; c < warmup + cycles; c++) {
		double w0 = now_ms(), c0 = cpu_ms(), wall, cpu;
		int good = 0;

		if (mode == MODE_THREADS)
			cycle_threads(paths, n, &attr);
		else if (mode == MODE_WORKERS)
			cycle_workers(paths, n);
		else if (mode == MODE_POOL)
			cycle_pool(n);
		else
			cycle_loop(paths, n);
		wall = now_ms() - w0;
		cpu = cpu_ms() - c0;
		for (i = 0; i < n; i++)
			good += paths[i].good;
		printf("{\"event\":\"cycle\",\"cycle\":%d,\"warmup\":%s,\"t\":%.3f,\"wallMs\":%.3f,\"cpuMs\":%.3f,\"good\":%d,\"notGood\":%d,\"all\":\"%s\",\"rssKb\":%ld,\"hwmKb\":%ld}\n",
		       c + 1, c < warmup ? "true" : "false", w0 - t0, wall,
		       cpu, good, n - good, good == n ? "up" : "mixed",
		       status_kb("VmRSS"), status_kb("VmHWM"));
		fflush(stdout);
	}
	/* the cycles printed: a reader can tell it has them all */
	printf("{\"event\":\"finished\",\"t\":%.3f,\"cycles\":%d,\"rssKb\":%ld,\"hwmKb\":%ld}\n",
	       now_ms() - t0, c, status_kb("VmRSS"), status_kb("VmHWM"));
	fflush(stdout);
	if (mode == MODE_WORKERS)
		stop_workers(paths, n);
	if (mode == MODE_POOL)
		stop_pool(pool);
	pthread_attr_destroy(&attr);
	for (i = 0; i < n; i++)
		close(paths[i].fd);
	free(paths);
	return 0;
}
