// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * The checker host: loads a checker plugin the way multipathd 0.15 does
 * (dlopen libcheck<name>.so, resolve the async checker ABI, then init,
 * check, pending ... free through the async checker framework) and prints
 * every result as one JSON object per line.
 *
 *   checker-host [options] sim FILE       simulated SG_IO (plugin linked
 *                                         with libsgsim), cases from FILE
 *   checker-host [options] run DEVICE...  real devices, multipathd's loop
 *   checker-host [options] cycle DEVICE... real devices, check cycles: a
 *                                         check started on every path,
 *                                         then all collected (benchmarks)
 *
 * Options: --checker PATH (required), --sync, --timeout S (checker
 * timeout, default 30), --verbosity N, and for run: --checks N,
 * --interval-ms MS, --tick-ms MS, --duration-ms MS, --count-threads,
 * --stop-file PATH (stop once PATH exists), --drain-ms MS (wait up to MS
 * for runner threads to end before the exit record), --sim-default ANSWER
 * (every SG_IO gets ANSWER; needs libsgsim); for cycle: --cycles N
 * (measured cycles after the warm-up ones; 0: until stopped), --warmup N,
 * --poll-us US (between two polls of the checks in flight), --interval-ms
 * MS (between the starts of two cycles; 0: back to back), --duration-ms,
 * --count-threads, --stop-file and --drain-ms as for run, --release-ms MS
 * (simulated SG_IO: end every hang MS after the start, later ones return
 * at once), --idle-ms MS (after the cycles, with the checkers still set
 * up: wait up to MS for the runner threads to end, e.g. persistent workers
 * idling out, and print an "idle" record with the threads and memory).
 *
 * Run mode times ("t") are ms since the start; the first record gives the
 * start as CLOCK_MONOTONIC ms ("clock"), to compare with other programs.
 */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "async_checker.h"
#include "checkers.h"
#include "debug.h"
#include "glue-peek.h"
#include "sgsim.h"

#define MAX_PATHS 8192
#define MAX_LINE 300000

struct sgsim_api {
	void (*push)(const struct sgsim_answer *);
	void (*set_default)(const struct sgsim_answer *);
	int (*queued)(void);
	void (*reset)(void);
	int (*commands)(struct sgsim_command *, int);
	int (*overruns)(void);
	void (*release_all)(void);
};

static struct checker_class cls;
static int checker_timeout = 30;
static struct sgsim_api sim;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000.0;
}

static void json_string(const char *s);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints an error record and exits with 2 (a usage or set-up error) */
static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("{\"event\":\"error\",\"message\":");
	json_string(msg);
	printf("}\n");
	fflush(stdout);
	exit(2);
}

static const char *state_name(int state)
{
	static const char *const names[] = {
		"wild",	   "unchecked", "down",		"up",
		"shaky",   "ghost",	"pending",	"timeout",
		"removed", "delayed",	"disconnected",
	};

	if (state < 0 || state >= PATH_MAX_STATE)
		return "invalid";
	return names[state];
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* The checker-specific text of msgid, or NULL for generic ones */
static const char *checker_msg(int msgid)
{
	if (msgid >= CHECKER_FIRST_MSGID &&
	    msgid - CHECKER_FIRST_MSGID < cls.msgtable_size)
		return cls.msgtable[msgid - CHECKER_FIRST_MSGID];
	return NULL;
}

/* What add_checker_class() does for an async (ABI C) plugin */
static void load_class(const char *path)
{
	const char *base = strrchr(path, '/');
	short n = 0;

	base = base ? base + 1 : path;
	if (strncmp(base, "libcheck", 8))
		die("plugin file name must be libcheck<name>.so: %s", path);
	snprintf(cls.name, sizeof(cls.name), "%.*s",
		 (int)strcspn(base + 8, "."), base + 8);
	cls.handle = dlopen(path, RTLD_NOW);
	if (!cls.handle)
		die("cannot load the plugin: %s", dlerror());
	cls.async_func = (async_checker_func)dlsym(cls.handle, "libcheck_async_func");
	if (!cls.async_func)
		die("%s has no libcheck_async_func: not a 0.15 async checker",
		    path);
	cls.init = async_check_init;
	cls.check = async_check_check;
	cls.pending = async_check_pending;
	cls.need_wait = async_check_need_wait;
	cls.free = async_check_free;
	cls.msgtable = dlsym(cls.handle, "libcheck_msgtable");
	if (cls.msgtable)
		while (n < CHECKER_MSGTABLE_SIZE && cls.msgtable[n])
			n++;
	cls.msgtable_size = n;
}

static void load_sgsim(void)
{
	void *self = dlopen("libsgsim.so", RTLD_NOW | RTLD_NOLOAD);

	if (!self)
		die("the plugin is not linked with libsgsim");
	sim.push = (void (*)(const struct sgsim_answer *))dlsym(self, "sgsim_push");
	sim.set_default = (void (*)(const struct sgsim_answer *))
		dlsym(self, "sgsim_set_default");
	sim.queued = (int (*)(void))dlsym(self, "sgsim_queued");
	sim.reset = (void (*)(void))dlsym(self, "sgsim_reset");
	sim.commands = (int (*)(struct sgsim_command *,
				int))dlsym(self, "sgsim_commands");
	sim.overruns = (int (*)(void))dlsym(self, "sgsim_overruns");
	sim.release_all = (void (*)(void))dlsym(self, "sgsim_release_all");
	if (!sim.push || !sim.set_default || !sim.queued || !sim.reset ||
	    !sim.commands || !sim.overruns || !sim.release_all)
		die("libsgsim lacks a symbol");
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static unsigned int parse_hex(const char *s, unsigned char *out, unsigned int max)
{
	unsigned int n = 0;

	while (s[0] && s[1] && n < max) {
		int hi = hexval(s[0]), lo = hexval(s[1]);

		if (hi < 0 || lo < 0)
			die("bad hex byte in %s", s);
		out[n++] = hi << 4 | lo;
		s += 2;
	}
	if (s[0])
		die("hex string too long or odd: %s", s);
	return n;
}

static long parse_num(const char *key, const char *v)
{
	char *end;
	long n = strtol(v, &end, 0);

	if (!*v || *end)
		die("bad number for %s", key);
	return n;
}

/* "answer key=value ..." → *ans; data goes into buf */
static void parse_answer(char *line, struct sgsim_answer *ans, unsigned char *buf)
{
	char *tok, *save = NULL;

	memset(ans, 0, sizeof(*ans));
	for (tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *v = strchr(tok, '=');

		if (!v)
			die("answer field without '=': %s", tok);
		*v++ = '\0';
		if (!strcmp(tok, "errno"))
			ans->err = parse_num(tok, v);
		else if (!strcmp(tok, "status"))
			ans->status = parse_num(tok, v);
		else if (!strcmp(tok, "host"))
			ans->host_status = parse_num(tok, v);
		else if (!strcmp(tok, "driver"))
			ans->driver_status = parse_num(tok, v);
		else if (!strcmp(tok, "info"))
			ans->info = parse_num(tok, v);
		else if (!strcmp(tok, "resid")) {
			ans->has_resid = true;
			ans->resid = parse_num(tok, v);
		} else if (!strcmp(tok, "sbwr"))
			ans->sb_len_wr = parse_num(tok, v);
		else if (!strcmp(tok, "sense"))
			ans->sense_len = parse_hex(v, ans->sense, SGSIM_MAX_SENSE);
		else if (!strcmp(tok, "data")) {
			ans->data_len = parse_hex(v, buf, SGSIM_MAX_DATA);
			ans->data = buf;
		} else if (!strcmp(tok, "hang"))
			ans->hang_ms = parse_num(tok, v);
		else
			die("unknown answer field %s", tok);
	}
}

struct path {
	char name[256];
	struct checker c;
	/* the map's context: own_mpc, or a map's shared by its paths ("map") */
	union checker_mpcontext *mpc;
	union checker_mpcontext own_mpc;
	bool pending;
	int checks;
	double started;
	double next_check;
};

static struct path *new_path(const char *name, int fd)
{
	struct path *p = calloc(1, sizeof(*p));

	if (!p)
		die("out of memory");
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->c.cls = &cls;
	p->c.fd = fd;
	p->c.timeout = checker_timeout;
	p->c.path_state = PATH_UNCHECKED;
	SET_INVALID_MPCONTEXT(p->own_mpc);
	p->mpc = &p->own_mpc;
	if (cls.init(&p->c)) {
		printf("{\"event\":\"init-failed\",\"path\":");
		json_string(name);
		printf("}\n");
		p->c.context = NULL;
	}
	return p;
}

/* The path's checker context as the framework keeps it, in hex ("ctx") */
static void print_context(const struct path *p)
{
	const unsigned char *ctx;
	unsigned int len, i;

	ctx = host_checker_context(&p->c, &len);
	if (!ctx)
		return;
	printf(",\"ctx\":\"");
	for (i = 0; i < len; i++)
		printf("%02x", ctx[i]);
	printf("\"");
}

static void print_result(const char *event, struct path *p, int state, double t0)
{
	const char *msg = checker_msg(p->c.msgid);

	printf("{\"event\":\"%s\",\"path\":", event);
	json_string(p->name);
	printf(",\"t\":%.1f,\"state\":%d,\"stateName\":\"%s\",\"msgid\":%d",
	       now_ms() - t0, state, state_name(state), p->c.msgid);
	printf(",\"mpc\":%ld", p->mpc->long_val);
	if (msg) {
		printf(",\"checkerMessage\":");
		json_string(msg);
	}
	print_context(p);
}

/* checker_check() of multipathd: msgid reset, then the class's check */
static int start_check(struct path *p)
{
	p->c.msgid = CHECKER_MSGID_NONE;
	if (p->c.fd < 0) {
		p->c.msgid = CHECKER_MSGID_NO_FD;
		return PATH_WILD;
	}
	if (!p->c.context)
		return PATH_UNCHECKED;
	return cls.check(&p->c, p->mpc);
}

static int count_threads(void);
static void drain_threads(int ms);

/* The commands sent since the last record, then the record's end */
static void print_sim_commands(void)
{
	static struct sgsim_command cmds[SGSIM_MAX_COMMANDS];
	int n, i;

	n = sim.commands(cmds, SGSIM_MAX_COMMANDS);
	printf(",\"commands\":[");
	for (i = 0; i < n; i++) {
		unsigned int b;

		printf("%s{\"cdb\":\"", i ? "," : "");
		for (b = 0; b < cmds[i].cdb_len; b++)
			printf("%02x", cmds[i].cdb[b]);
		printf("\",\"dir\":%d,\"len\":%u,\"timeoutMs\":%u,\"mxSbLen\":%u",
		       cmds[i].direction, cmds[i].dxfer_len,
		       cmds[i].timeout_ms, cmds[i].mx_sb_len);
		if (cmds[i].transport == 'C')
			printf(",\"via\":\"cciss\"");
		if (cmds[i].transport == 'R')
			printf(",\"via\":\"directRead\",\"offset\":%lld",
			       cmds[i].offset);
		if (cmds[i].out_len) {
			printf(",\"out\":\"");
			for (b = 0; b < cmds[i].out_len; b++)
				printf("%02x", cmds[i].out[b]);
			printf("\"");
		}
		printf("}");
	}
	printf("],\"unanswered\":%d,\"leftover\":%d}\n", sim.overruns(),
	       sim.queued());
	sim.reset();
}

/*
 * Sim mode: each "check" runs one check to completion; "map NAME" makes the
 * current path one of map NAME's paths, which share its context (every
 * record prints the path's map context as "mpc"); "start ID" starts a check
 * and does not wait for it (its result comes with "collect"). For stalled
 * checks:
 * "pending ID" calls the class's pending() once (the commands are reported
 * with the next record), "collect ID" until it is no longer PENDING;
 * "release" ends every hang; "threads ID" prints the
 * number of runner threads, "wait-threads N" waits (up to 10 s) until at
 * most N are left; "reinit" frees the current path's checker (its runners,
 * and its persistent worker) and initialises it again.
 */
static int run_sim(const char *file)
{
	static char line[MAX_LINE];
	static unsigned char data[SGSIM_MAX_DATA];
	static struct path *paths[MAX_PATHS];
	static struct {
		char name[256];
		union checker_mpcontext mpc;
	} maps[MAX_PATHS];
	int npaths = 0, nmaps = 0;
	struct path *cur = NULL;
	FILE *f = fopen(file, "r");
	/* one fd for every simulated path: the wrapped ioctl ignores it */
	int fd = open("/dev/null", O_RDONLY);
	double t0 = now_ms();

	if (!f || fd < 0)
		die("cannot open %s", file);
	load_sgsim();
	while (fgets(line, sizeof(line), f)) {
		char *rest = line + strcspn(line, " \t\n");
		char *arg;

		if (*rest)
			*rest++ = '\0';
		arg = rest + strspn(rest, " \t");
		arg[strcspn(arg, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!strcmp(line, "path")) {
			int i;

			for (i = npaths - 1, cur = NULL; i >= 0 && !cur; i--)
				if (!strcmp(paths[i]->name, arg))
					cur = paths[i];
			if (!cur) {
				if (npaths == MAX_PATHS)
					die("too many paths");
				cur = paths[npaths++] = new_path(arg, fd);
			}
		} else if (!strcmp(line, "map")) {
			/* the current path is one of map ARG's: they share its context */
			int i;

			if (!cur)
				die("map without a path");
			for (i = 0; i < nmaps && strcmp(maps[i].name, arg); i++)
				;
			if (i == nmaps) {
				if (nmaps == MAX_PATHS)
					die("too many maps");
				snprintf(maps[i].name, sizeof(maps[i].name), "%s", arg);
				SET_INVALID_MPCONTEXT(maps[i].mpc);
				nmaps++;
			}
			cur->mpc = &maps[i].mpc;
		} else if (!strcmp(line, "answer")) {
			struct sgsim_answer ans;

			parse_answer(arg, &ans, data);
			sim.push(&ans);
		} else if (!strcmp(line, "check")) {
			int state;

			if (!cur) {
				if (npaths == MAX_PATHS)
					die("too many paths");
				cur = paths[npaths++] = new_path("p0", fd);
			}
			state = start_check(cur);
			while (state == PATH_PENDING && cls.need_wait(&cur->c)) {
				usleep(50);
				state = cls.pending(&cur->c, cur->mpc);
			}
			cur->c.path_state = state;
			print_result("check", cur, state, t0);
			printf(",\"id\":");
			json_string(arg);
			print_sim_commands();
		} else if (!strcmp(line, "start")) {
			/*
			 * starts a check and returns its first result at once,
			 * once its thread has taken the answers queued (up to
			 * 10 s): a later check's answers cannot go to it
			 */
			double start = now_ms();
			int state;

			if (!cur)
				die("start without a path");
			state = start_check(cur);
			while (sim.queued() > 0 && now_ms() - start < 10000)
				usleep(1000);
			cur->c.path_state = state;
			print_result("start", cur, state, t0);
			printf(",\"id\":");
			json_string(arg);
			printf("}\n");
		} else if (!strcmp(line, "pending") || !strcmp(line, "collect")) {
			int state;

			if (!cur || !cur->c.context)
				die("%s without a checked path", line);
			state = cls.pending(&cur->c, cur->mpc);
			while (line[0] == 'c' && state == PATH_PENDING &&
			       cls.need_wait(&cur->c)) {
				usleep(50);
				state = cls.pending(&cur->c, cur->mpc);
			}
			cur->c.path_state = state;
			print_result(line, cur, state, t0);
			printf(",\"id\":");
			json_string(arg);
			printf(",\"needWait\":%s",
			       cls.need_wait(&cur->c) ? "true" : "false");
			/* the answers queued stay for the check in flight */
			if (line[0] == 'c')
				print_sim_commands();
			else
				printf("}\n");
		} else if (!strcmp(line, "release")) {
			sim.release_all();
			printf("{\"event\":\"release\",\"t\":%.1f}\n",
			       now_ms() - t0);
		} else if (!strcmp(line, "reinit")) {
			if (!cur)
				die("reinit: no path");
			cls.free(&cur->c);
			if (cls.init(&cur->c))
				die("reinit: init failed");
			cur->c.path_state = PATH_UNCHECKED;
			printf("{\"event\":\"reinit\",\"t\":%.1f}\n",
			       now_ms() - t0);
		} else if (!strcmp(line, "threads")) {
			printf("{\"event\":\"threads\",\"id\":");
			json_string(arg);
			printf(",\"count\":%d}\n", count_threads());
		} else if (!strcmp(line, "wait-threads")) {
			long max = parse_num("wait-threads", arg);
			double start = now_ms();
			int n;

			while ((n = count_threads()) > max &&
			       now_ms() - start < 10000)
				usleep(1000);
			printf("{\"event\":\"wait-threads\",\"count\":%d,\"ms\":%.1f}\n",
			       n, now_ms() - start);
		} else
			die("unknown sim command %s", line);
		fflush(stdout);
	}
	fclose(f);
	while (npaths > 0) {
		struct path *p = paths[--npaths];

		cls.free(&p->c);
		free(p);
	}
	/*
	 * Released runner threads (a persistent worker woken to end, a hung
	 * check let go) end on their own: wait for them, so that a leak
	 * checker sees a process whose threads have all ended.
	 */
	sim.release_all();
	drain_threads(2000);
	close(fd);
	return 0;
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
	return n - 1;
}

struct run_options {
	int checks;
	int interval_ms;
	int tick_ms;
	int duration_ms;
	int drain_ms;
	bool count_threads;
	const char *stop_file;
	/* cycle mode */
	int cycles;
	int warmup;
	int poll_us;
	/* simulated SG_IO: release every hang after this (ms; 0: never) */
	int release_ms;
	/* after the cycles: wait up to this for the threads to idle out */
	int idle_ms;
};

/* Waits up to ms for every runner thread to end */
static void drain_threads(int ms)
{
	double end = now_ms() + ms;

	while (count_threads() > 0 && now_ms() < end)
		usleep(10000);
}

/*
 * Opens the devices (raising the fd limit) and sets up a checker on each;
 * with strict, a device that cannot be opened or checked is fatal.
 */
static void open_paths(struct path **paths, char **devices, int ndev, bool strict)
{
	struct rlimit rl;
	int i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (ndev > MAX_PATHS)
		die("too many devices");
	for (i = 0; i < ndev; i++) {
		int fd = open(devices[i], O_RDONLY | O_NONBLOCK);

		if (fd < 0 && strict)
			die("cannot open %s: %s", devices[i], strerror(errno));
		if (fd < 0) {
			printf("{\"event\":\"open-failed\",\"path\":");
			json_string(devices[i]);
			printf(",\"errno\":%d}\n", errno);
		}
		paths[i] = new_path(devices[i], fd);
		if (strict && !paths[i]->c.context)
			die("cannot initialise the checker of %s", devices[i]);
	}
}

/*
 * Frees every checker, closes the devices, lets released threads end and
 * prints the exit record.
 */
static int close_paths(struct path **paths, int ndev,
		       const struct run_options *o, double t0)
{
	int i;

	for (i = 0; i < ndev; i++) {
		cls.free(&paths[i]->c);
		if (paths[i]->c.fd >= 0)
			close(paths[i]->c.fd);
		free(paths[i]);
	}
	if (sim.release_all) {
		sim.release_all();
		/* give released threads the time to end, for leak checkers */
		drain_threads(2000);
	}
	if (o->drain_ms > 0)
		drain_threads(o->drain_ms);
	printf("{\"event\":\"exit\",\"t\":%.3f,\"threads\":%d}\n",
	       now_ms() - t0, count_threads());
	return 0;
}

/* Run mode: multipathd's checker loop over real devices, faster */
static int run_devices(char **devices, int ndev, const struct run_options *o)
{
	static struct path *paths[MAX_PATHS];
	double t0 = now_ms();
	int i, done = 0, max_threads = 0;

	open_paths(paths, devices, ndev, false);
	printf("{\"event\":\"started\",\"paths\":%d,\"threads\":%d,\"clock\":%.1f}\n",
	       ndev, count_threads(), t0);
	fflush(stdout);
	while (done < ndev) {
		bool wait = false;
		double now = now_ms();

		if (o->duration_ms && now - t0 >= o->duration_ms)
			break;
		if (o->stop_file && access(o->stop_file, F_OK) == 0) {
			printf("{\"event\":\"stop\",\"t\":%.1f}\n", now - t0);
			break;
		}
		for (i = 0; i < ndev; i++) {
			struct path *p = paths[i];
			int state;

			if (p->checks >= o->checks && !p->pending)
				continue;
			if (!p->pending) {
				if (now < p->next_check)
					continue;
				p->next_check = now + o->interval_ms;
				p->started = now;
				state = start_check(p);
				p->c.path_state = state;
				/* in flight while its runner is held */
				if (state == PATH_PENDING && cls.need_wait(&p->c)) {
					p->pending = true;
					print_result("started", p, state, t0);
					printf("}\n");
					continue;
				}
			} else {
				state = cls.pending(&p->c, p->mpc);
				p->c.path_state = state;
				if (state == PATH_PENDING && cls.need_wait(&p->c)) {
					wait = true;
					continue;
				}
				p->pending = false;
			}
			p->checks++;
			print_result("result", p, state, t0);
			printf(",\"check\":%d,\"ms\":%.1f", p->checks,
			       now_ms() - p->started);
			if (o->count_threads)
				printf(",\"threads\":%d", count_threads());
			printf("}\n");
			if (p->checks >= o->checks)
				done++;
		}
		if (o->count_threads) {
			int n = count_threads();

			if (n > max_threads) {
				max_threads = n;
				printf("{\"event\":\"threads\",\"t\":%.1f,\"count\":%d}\n",
				       now_ms() - t0, n);
			}
		}
		fflush(stdout);
		usleep(wait ? 5000 : o->tick_ms * 1000);
	}
	/* the results printed per path: a reader can tell it has them all */
	printf("{\"event\":\"finished\",\"t\":%.1f,\"threads\":%d,\"maxThreads\":%d,\"checks\":[",
	       now_ms() - t0, count_threads(), max_threads);
	for (i = 0; i < ndev; i++)
		printf("%s%d", i ? "," : "", paths[i]->checks);
	printf("]}\n");
	fflush(stdout);
	return close_paths(paths, ndev, o, t0);
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* The "KEY: N kB" line of a /proc file, in kB; -1 if it is missing */
static long proc_kb(const char *file, const char *key)
{
	FILE *f = fopen(file, "r");
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

/* ms between two thread counts during a cycle */
#define SAMPLE_MS 50

struct cycle_stats {
	int cycle;
	bool warmup;
	/* ms: the start (since the host's), wall time and CPU time */
	double start;
	double wall;
	double cpu;
	/* ms: wall and CPU time of starting the checks */
	double start_wall;
	double start_cpu;
	int states[PATH_MAX_STATE];
	int invalid;
	/* checks that went PENDING: a runner in flight */
	int pending;
	/* polls of the checks still in flight */
	int sweeps;
	int threads_start;
	int threads_peak;
	long peak_rss_kb;
	long peak_kstack_kb;
	/* thread sampling: when next, and its cost (ms), not in cpu */
	double next_sample;
	double sample_wall;
	double sample_cpu;
};

static void count_state(struct cycle_stats *st, int state)
{
	if (state >= 0 && state < PATH_MAX_STATE)
		st->states[state]++;
	else
		st->invalid++;
}

/*
 * Thread count, with the memory at its peak; at most every SAMPLE_MS
 * unless forced: reading /proc/self/task is slow with thousands of threads
 */
static void sample_threads(struct cycle_stats *st, bool force)
{
	double t = now_ms(), c, end;
	int n;

	if (!force && t < st->next_sample)
		return;
	c = cpu_ms();
	n = count_threads();
	if (n > st->threads_peak) {
		st->threads_peak = n;
		st->peak_rss_kb = proc_kb("/proc/self/status", "VmRSS");
		st->peak_kstack_kb = proc_kb("/proc/meminfo", "KernelStack");
	}
	st->sample_cpu += cpu_ms() - c;
	end = now_ms();
	st->sample_wall += end - t;
	st->next_sample = end + SAMPLE_MS;
}

/* One cycle: a check started on every path, then all of them collected */
static void run_cycle(struct path **paths, int n, const struct run_options *o,
		      struct cycle_stats *st)
{
	double t = now_ms(), c = cpu_ms();
	int i, left = 0;

	for (i = 0; i < n; i++) {
		struct path *p = paths[i];
		int state = start_check(p);

		p->c.path_state = state;
		p->pending = state == PATH_PENDING && cls.need_wait(&p->c);
		if (p->pending) {
			left++;
			st->pending++;
		} else
			count_state(st, state);
	}
	st->start_wall = now_ms() - t;
	st->start_cpu = cpu_ms() - c;
	if (o->count_threads)
		sample_threads(st, true);
	while (left > 0) {
		usleep(o->poll_us);
		st->sweeps++;
		for (i = 0; i < n; i++) {
			struct path *p = paths[i];
			int state;

			if (!p->pending)
				continue;
			state = cls.pending(&p->c, p->mpc);
			p->c.path_state = state;
			if (state == PATH_PENDING && cls.need_wait(&p->c))
				continue;
			p->pending = false;
			left--;
			count_state(st, state);
		}
		if (o->count_threads)
			sample_threads(st, false);
	}
}

static void print_cycle(const struct cycle_stats *st, int n, bool threads)
{
	const char *all = "mixed";
	int s, sep = 0;

	printf("{\"event\":\"cycle\",\"cycle\":%d,\"warmup\":%s,\"t\":%.3f,\"wallMs\":%.3f,\"cpuMs\":%.3f,\"startMs\":%.3f,\"startCpuMs\":%.3f,\"pending\":%d,\"sweeps\":%d,\"states\":{",
	       st->cycle, st->warmup ? "true" : "false", st->start, st->wall,
	       st->cpu, st->start_wall, st->start_cpu, st->pending, st->sweeps);
	for (s = 0; s < PATH_MAX_STATE; s++) {
		if (!st->states[s])
			continue;
		printf("%s\"%s\":%d", sep++ ? "," : "", state_name(s),
		       st->states[s]);
		if (st->states[s] == n)
			all = state_name(s);
	}
	if (st->invalid)
		printf("%s\"invalid\":%d", sep ? "," : "", st->invalid);
	printf("},\"all\":\"%s\",\"rssKb\":%ld,\"hwmKb\":%ld", all,
	       proc_kb("/proc/self/status", "VmRSS"),
	       proc_kb("/proc/self/status", "VmHWM"));
	if (threads)
		printf(",\"threadsStart\":%d,\"threadsPeak\":%d,\"threadsEnd\":%d,\"peakRssKb\":%ld,\"peakKstackKb\":%ld,\"sampleMs\":%.3f,\"sampleCpuMs\":%.3f",
		       st->threads_start, st->threads_peak, count_threads(),
		       st->peak_rss_kb, st->peak_kstack_kb, st->sample_wall,
		       st->sample_cpu);
	printf("}\n");
	fflush(stdout);
}

/*
 * Waits until the time "until"; with --count-threads it samples the thread
 * count meanwhile, and reports the gap if threads were left at its start.
 */
static void idle_until(double until, const struct run_options *o, double t0)
{
	double start = now_ms(), zero = -1, now;
	int first = -1, last = 0;

	for (;;) {
		now = now_ms();
		if (o->count_threads) {
			last = count_threads();
			if (first < 0)
				first = last;
			if (last == 0 && zero < 0)
				zero = now;
		}
		if (now >= until)
			break;
		/* a stop ends the wait: the caller sees the file too */
		if (o->stop_file && access(o->stop_file, F_OK) == 0)
			break;
		usleep(until - now > 5 ? 5000 : (until - now) * 1000);
	}
	if (first <= 0)
		return;
	printf("{\"event\":\"gap\",\"t\":%.3f,\"ms\":%.3f,\"threadsStart\":%d,\"threadsEnd\":%d",
	       start - t0, now - start, first, last);
	if (zero >= 0)
		printf(",\"zeroT\":%.3f", zero - t0);
	printf("}\n");
	fflush(stdout);
}

/* Cycle mode: check cycles over real devices, each measured */
static int run_cycles(char **devices, int ndev, const struct run_options *o)
{
	static struct path *paths[MAX_PATHS];
	int c, total = o->warmup + o->cycles, max_threads = 0;
	long rss0 = proc_kb("/proc/self/status", "VmRSS");
	bool released = false;
	double t0, next;

	open_paths(paths, devices, ndev, true);
	t0 = now_ms();
	printf("{\"event\":\"started\",\"mode\":\"checker\",\"paths\":%d,\"threads\":%d,\"clock\":%.3f,\"rssBeforeKb\":%ld,\"rssKb\":%ld,\"hwmKb\":%ld,\"kstackKb\":%ld}\n",
	       ndev, count_threads(), t0, rss0,
	       proc_kb("/proc/self/status", "VmRSS"),
	       proc_kb("/proc/self/status", "VmHWM"),
	       proc_kb("/proc/meminfo", "KernelStack"));
	fflush(stdout);
	for (c = 0, next = t0; o->cycles == 0 || c < total; c++) {
		struct cycle_stats st = {
			.cycle = c + 1,
			.warmup = c < o->warmup,
			.threads_peak = -1,
		};
		double start, c0;

		if (c > 0)
			idle_until(next, o, t0);
		if (o->release_ms && !released && now_ms() - t0 >= o->release_ms) {
			if (!sim.release_all)
				die("--release-ms needs simulated SG_IO");
			sim.release_all();
			released = true;
			printf("{\"event\":\"released\",\"t\":%.3f}\n",
			       now_ms() - t0);
		}
		if (o->stop_file && access(o->stop_file, F_OK) == 0) {
			printf("{\"event\":\"stop\",\"t\":%.3f}\n", now_ms() - t0);
			break;
		}
		if (o->duration_ms && now_ms() - t0 >= o->duration_ms)
			break;
		if (o->count_threads) {
			sample_threads(&st, true);
			st.threads_start = st.threads_peak;
			st.sample_wall = st.sample_cpu = 0;
		}
		start = now_ms();
		c0 = cpu_ms();
		run_cycle(paths, ndev, o, &st);
		st.wall = now_ms() - start;
		/* the thread sampling is the benchmark's, not the checker's */
		st.cpu = cpu_ms() - c0 - st.sample_cpu;
		st.start = start - t0;
		print_cycle(&st, ndev, o->count_threads);
		if (st.threads_peak > max_threads)
			max_threads = st.threads_peak;
		next = start + o->interval_ms;
	}
	/* the cycles printed: a reader can tell it has them all */
	printf("{\"event\":\"finished\",\"t\":%.3f,\"threads\":%d,\"maxThreads\":%d,\"cycles\":%d,\"rssKb\":%ld,\"kstackKb\":%ld}\n",
	       now_ms() - t0, count_threads(), max_threads, c,
	       proc_kb("/proc/self/status", "VmRSS"),
	       proc_kb("/proc/meminfo", "KernelStack"));
	fflush(stdout);
	if (o->idle_ms) {
		double w0 = now_ms();

		drain_threads(o->idle_ms);
		printf("{\"event\":\"idle\",\"t\":%.3f,\"ms\":%.1f,\"threads\":%d,\"rssKb\":%ld,\"kstackKb\":%ld}\n",
		       now_ms() - t0, now_ms() - w0, count_threads(),
		       proc_kb("/proc/self/status", "VmRSS"),
		       proc_kb("/proc/meminfo", "KernelStack"));
		fflush(stdout);
	}
	return close_paths(paths, ndev, o, t0);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: checker-host --checker PATH [--sync] [--timeout S] [--verbosity N]\n"
		"                    sim FILE\n"
		"       checker-host --checker PATH [--timeout S] [--checks N] [--interval-ms MS]\n"
		"                    [--tick-ms MS] [--duration-ms MS] [--count-threads]\n"
		"                    [--stop-file PATH] [--drain-ms MS]\n"
		"                    [--sim-default ANSWER] run DEVICE...\n"
		"       checker-host --checker PATH [--timeout S] [--cycles N] [--warmup N]\n"
		"                    [--poll-us US] [--interval-ms MS] [--duration-ms MS]\n"
		"                    [--count-threads] [--stop-file PATH] [--drain-ms MS]\n"
		"                    [--release-ms MS] [--idle-ms MS] cycle DEVICE...\n");
}

int main(int argc, char **argv)
{
	// clang-format off
	static const struct option longopts[] = {
		{ "checker", required_argument, NULL, 'c' },
		{ "sync", no_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbosity", required_argument, NULL, 'v' },
		{ "checks", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "tick-ms", required_argument, NULL, 'k' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "count-threads", no_argument, NULL, 'T' },
		{ "stop-file", required_argument, NULL, 'F' },
		{ "drain-ms", required_argument, NULL, 'W' },
		{ "sim-default", required_argument, NULL, 'D' },
		{ "cycles", required_argument, NULL, 'C' },
		{ "warmup", required_argument, NULL, 'U' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "release-ms", required_argument, NULL, 'R' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	// clang-format on
	struct run_options ro = {
		.checks = 1,
		.interval_ms = 1000,
		.tick_ms = 1,
		.cycles = 5,
		.warmup = 1,
		.poll_us = 1000,
	};
	const char *checker = NULL;
	char *sim_default = NULL;
	bool sync = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			checker = optarg;
			break;
		case 'S':
			sync = true;
			break;
		case 't':
			checker_timeout = parse_num("--timeout", optarg);
			break;
		case 'v':
			libmp_verbosity = parse_num("--verbosity", optarg);
			break;
		case 'n':
			ro.checks = parse_num("--checks", optarg);
			break;
		case 'i':
			ro.interval_ms = parse_num("--interval-ms", optarg);
			break;
		case 'k':
			ro.tick_ms = parse_num("--tick-ms", optarg);
			break;
		case 'd':
			ro.duration_ms = parse_num("--duration-ms", optarg);
			break;
		case 'T':
			ro.count_threads = true;
			break;
		case 'F':
			ro.stop_file = optarg;
			break;
		case 'W':
			ro.drain_ms = parse_num("--drain-ms", optarg);
			break;
		case 'D':
			sim_default = optarg;
			break;
		case 'C':
			ro.cycles = parse_num("--cycles", optarg);
			break;
		case 'U':
			ro.warmup = parse_num("--warmup", optarg);
			break;
		case 'P':
			ro.poll_us = parse_num("--poll-us", optarg);
			break;
		case 'R':
			ro.release_ms = parse_num("--release-ms", optarg);
			break;
		case 'I':
			ro.idle_ms = parse_num("--idle-ms", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!checker || optind >= argc) {
		usage(stderr);
		return 2;
	}
	load_class(checker);
	cls.sync = sync;
	if (sim_default) {
		static unsigned char data[SGSIM_MAX_DATA];
		struct sgsim_answer ans;

		load_sgsim();
		parse_answer(sim_default, &ans, data);
		sim.set_default(&ans);
	}
	if (!strcmp(argv[optind], "sim") && optind + 2 == argc)
		return run_sim(argv[optind + 1]);
	if (!strcmp(argv[optind], "run") && optind + 1 < argc)
		return run_devices(argv + optind + 1, argc - optind - 1, &ro);
	if (!strcmp(argv[optind], "cycle") && optind + 1 < argc) {
		if (ro.cycles < 0 || ro.warmup < 0 || ro.poll_us < 0 ||
		    ro.interval_ms < 0)
			die("--cycles, --warmup, --poll-us and --interval-ms cannot be negative");
		return run_cycles(argv + optind + 1, argc - optind - 1, &ro);
	}
	usage(stderr);
	return 2;
}
