/*
 * vmstep: the VM side of the harness' structured output. Every record is one
 * line "@MPCG@ {json}" written to stdout (the serial console) with a single
 * write(), so kernel messages between lines cannot split it.
 *
 *   vmstep now
 *       prints CLOCK_MONOTONIC in ms (integer).
 *   vmstep emit [-S since_ms] JSON_OBJECT [key=string | key:=number ...]
 *       prints JSON_OBJECT (trusted, made by the harness) with "t" (ms,
 *       CLOCK_MONOTONIC), optional "elapsed_ms" (t - since) and the extra
 *       fields added. A key:=value that is not a number becomes a string.
 *   vmstep forward [-s scenario] [-n step] [-l label] FILE
 *       one {"event":"output","stream":"output","text":...} record per line.
 *   vmstep run [-s scenario] [-n step] [-l label] [-k kind] [-j] [-T ms] -- ARGV...
 *       runs ARGV (stdin /dev/null) in its own process group and reports:
 *         {"event":"step-begin",...,"argv":[...]}
 *         {"event":"output","stream":"stdout"|"stderr","text":...} per line
 *         {"event":"data","raw":"<line>"} per stdout line starting with '{'
 *             when -j is given (the harness parses "raw" as JSON)
 *         {"event":"step-end","status":N,"signal":S,"timed_out":B,"elapsed_ms":E}
 *       ARGV[0] may be a builtin, run in the child:
 *         =write PATH VALUE   open(PATH, O_WRONLY), one write() of VALUE
 *                             plus "\n" (like echo), close; exit status is
 *                             the errno on failure
 *         =writeraw PATH VALUE  the same without the newline
 *         =sleep MS           sleep MS milliseconds
 *       Exit status: the step's status (ARGV's exit status; 124 on timeout,
 *       128+signal when killed, 127 when ARGV cannot be executed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "@MPCG@ "
#define MAX_LINE 16384

/* ---- growable output buffer: one record = one write() ---- */
struct buf {
	char *p;
	size_t len, cap;
};

static void b_reserve(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	b->cap = (b->len + more + 1) * 2;
	b->p = realloc(b->p, b->cap);
	if (!b->p) {
		perror("vmstep: realloc");
		_exit(99);
	}
}

static void b_add(struct buf *b, const char *s, size_t n)
{
	b_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void b_str(struct buf *b, const char *s)
{
	b_add(b, s, strlen(s));
}

static void b_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		b_add(b, tmp,
		      (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* JSON string of n bytes. Bytes >= 0x80 pass through (UTF-8 assumed). */
static void b_jstr(struct buf *b, const char *s, size_t n)
{
	size_t i;

	b_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			b_add(b, e, 2);
		} else if (c == '\n') {
			b_add(b, "\\n", 2);
		} else if (c == '\t') {
			b_add(b, "\\t", 2);
		} else if (c == '\r') {
			b_add(b, "\\r", 2);
		} else if (c < 0x20 || c == 0x7f) {
			b_printf(b, "\\u%04x", c);
		} else {
			b_add(b, (const char *)&c, 1);
		}
	}
	b_add(b, "\"", 1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* The console may be non-blocking: never drop a record. */
				struct pollfd pf = { .fd = fd, .events = POLLOUT };

				poll(&pf, 1, 1000);
				continue;
			}
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* ---- record context for `run` ---- */
static const char *g_scenario, *g_label, *g_kind;
static long g_step = -1;

/* Starts a record: MARKER {"event":E,"t":..,"scenario":..,"step":..,"label":.. */
static void rec_begin(struct buf *b, const char *event)
{
	b->len = 0;
	b_str(b, MARKER "{\"event\":");
	b_jstr(b, event, strlen(event));
	b_printf(b, ",\"t\":%.3f", now_ms());
	if (g_scenario) {
		b_str(b, ",\"scenario\":");
		b_jstr(b, g_scenario, strlen(g_scenario));
	}
	if (g_step >= 0)
		b_printf(b, ",\"step\":%ld", g_step);
	if (g_label) {
		b_str(b, ",\"label\":");
		b_jstr(b, g_label, strlen(g_label));
	}
}

static void rec_end(struct buf *b)
{
	b_str(b, "}\n");
	write_all(1, b->p, b->len);
}

/* Strict JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == 0;
}

/* key=value (string) or key:=value (number, else string) */
static void b_field(struct buf *b, const char *arg)
{
	const char *eq = strchr(arg, '=');
	int raw;
	size_t klen;

	if (!eq || eq == arg)
		return;
	raw = eq[-1] == ':';
	klen = (size_t)(eq - arg) - (raw ? 1 : 0);
	b_str(b, ",");
	b_jstr(b, arg, klen);
	b_str(b, ":");
	if (raw && (is_number(eq + 1) || !strcmp(eq + 1, "true") ||
		    !strcmp(eq + 1, "false") || !strcmp(eq + 1, "null")))
		b_str(b, eq + 1);
	else
		b_jstr(b, eq + 1, strlen(eq + 1));
}

static int cmd_emit(int argc, char **argv)
{
	struct buf b = { 0 };
	double since = -1;
	const char *obj;
	size_t olen;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "-S") == 0) {
		since = is_number(argv[i + 1]) ? atof(argv[i + 1]) : -1;
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "vmstep emit: JSON object expected\n");
		return 2;
	}
	obj = argv[i++];
	olen = strlen(obj);
	while (olen > 0 && (obj[olen - 1] == ' ' || obj[olen - 1] == '\n'))
		olen--;
	if (olen < 2 || obj[0] != '{' || obj[olen - 1] != '}') {
		fprintf(stderr, "vmstep emit: not a JSON object: %s\n", obj);
		return 2;
	}
	b_str(&b, MARKER "{");
	b_printf(&b, "\"t\":%.3f", now_ms());
	if (since >= 0)
		b_printf(&b, ",\"elapsed_ms\":%.3f", now_ms() - since);
	if (olen > 2) {
		b_str(&b, ",");
		b_add(&b, obj + 1, olen - 2);
	}
	for (; i < argc; i++)
		b_field(&b, argv[i]);
	b_str(&b, "}\n");
	write_all(1, b.p, b.len);
	return 0;
}

/* ---- builtins, run in the child ---- */
static int builtin(char **argv)
{
	if (strcmp(argv[0], "=write") == 0 || strcmp(argv[0], "=writeraw") == 0) {
		int fd, e;
		size_t n;
		char *val;

		if (!argv[1] || !argv[2]) {
			fprintf(stderr, "=write: PATH VALUE expected\n");
			return 2;
		}
		fd = open(argv[1], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			fprintf(stderr, "open %s: %s\n", argv[1], strerror(e));
			return e;
		}
		/* Like echo: one write() of VALUE + "\n" (=writeraw: VALUE only).
		 * Some sysfs files need the newline (scsi_device state). */
		n = strlen(argv[2]);
		val = malloc(n + 2);
		if (!val)
			return ENOMEM;
		memcpy(val, argv[2], n);
		if (strcmp(argv[0], "=write") == 0)
			val[n++] = '\n';
		if (write(fd, val, n) != (ssize_t)n) {
			e = errno ? errno : EIO;
			fprintf(stderr, "write %s: %s\n", argv[1], strerror(e));
			close(fd);
			return e;
		}
		if (close(fd) != 0) {
			e = errno;
			fprintf(stderr, "close %s: %s\n", argv[1], strerror(e));
			return e;
		}
		return 0;
	}
	if (strcmp(argv[0], "=sleep") == 0) {
		long ms = argv[1] ? atol(argv[1]) : 0;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 0;
	}
	fprintf(stderr, "vmstep: unknown builtin %s\n", argv[0]);
	return 127;
}

struct stream {
	int fd;
	const char *name;
	char line[MAX_LINE];
	size_t len;
};

static int g_json;

static void flush_line(struct buf *b, struct stream *s)
{
	size_t n = s->len;

	if (n > 0 && s->line[n - 1] == '\r')
		n--;
	if (g_json && s->fd >= 0 && strcmp(s->name, "stdout") == 0 && n > 0 &&
	    s->line[0] == '{') {
		rec_begin(b, "data");
		b_str(b, ",\"raw\":");
		b_jstr(b, s->line, n);
	} else {
		rec_begin(b, "output");
		b_str(b, ",\"stream\":");
		b_jstr(b, s->name, strlen(s->name));
		b_str(b, ",\"text\":");
		b_jstr(b, s->line, n);
	}
	rec_end(b);
	s->len = 0;
}

static void feed(struct buf *b, struct stream *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			flush_line(b, s);
			continue;
		}
		if (s->len == MAX_LINE)
			flush_line(b, s);
		s->line[s->len++] = p[i];
	}
}

static int cmd_run(int argc, char **argv)
{
	struct buf b = { 0 };
	struct stream out = { .name = "stdout" }, err = { .name = "stderr" };
	int po[2], pe[2], opt, status = 0, st, timed_out = 0, sig = 0, i;
	long timeout_ms = 0;
	double t0, deadline = 0, idle_limit = 0, hard_end = 0, last_io = 0;
	pid_t pid;
	int reaped = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "+s:n:l:k:jT:")) != -1) {
		switch (opt) {
		case 's':
			g_scenario = optarg;
			break;
		case 'n':
			g_step = atol(optarg);
			break;
		case 'l':
			g_label = optarg;
			break;
		case 'k':
			g_kind = optarg;
			break;
		case 'j':
			g_json = 1;
			break;
		case 'T':
			timeout_ms = atol(optarg);
			break;
		default:
			fprintf(stderr, "vmstep run: bad option\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmstep run: command expected\n");
		return 2;
	}
	argv += optind;
	argc -= optind;

	rec_begin(&b, "step-begin");
	if (g_kind) {
		b_str(&b, ",\"kind\":");
		b_jstr(&b, g_kind, strlen(g_kind));
	}
	b_str(&b, ",\"argv\":[");
	for (i = 0; i < argc; i++) {
		if (i)
			b_str(&b, ",");
		b_jstr(&b, argv[i], strlen(argv[i]));
	}
	b_str(&b, "]");
	rec_end(&b);

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		perror("vmstep: pipe");
		return 99;
	}
	t0 = now_ms();
	if (timeout_ms > 0)
		deadline = t0 + timeout_ms;
	pid = fork();
	if (pid < 0) {
		perror("vmstep: fork");
		return 99;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull >= 0 && devnull != 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		if (argv[0][0] == '=')
			_exit(builtin(argv));
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	out.fd = po[0];
	err.fd = pe[0];

	while (out.fd >= 0 || err.fd >= 0 || !reaped) {
		struct pollfd pf[2];
		int nfds = 0, wait_ms = 200, r;
		double now = now_ms();

		if (!reaped && waitpid(pid, &st, WNOHANG) == pid) {
			reaped = 1;
			status = st;
			/*
			 * Drain what is still in the pipes, but a daemon started by
			 * ARGV that keeps them open must not keep us here: stop after
			 * 500 ms without data, or 10 s after the exit at the latest.
			 */
			if (!idle_limit) {
				idle_limit = 500;
				last_io = now;
				hard_end = now + 10000;
			}
		}
		if (deadline && now >= deadline && !timed_out) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			idle_limit = 2000;
			last_io = now;
			hard_end = now + 10000;
		}
		if (idle_limit && (now - last_io >= idle_limit || now >= hard_end))
			break;
		if (deadline && !timed_out && deadline - now < wait_ms)
			wait_ms = (int)(deadline - now) + 1;
		if (out.fd >= 0) {
			pf[nfds].fd = out.fd;
			pf[nfds++].events = POLLIN;
		}
		if (err.fd >= 0) {
			pf[nfds].fd = err.fd;
			pf[nfds++].events = POLLIN;
		}
		if (nfds == 0) {
			/* Pipes closed, child not reaped yet. */
			if (!reaped && !timed_out && !deadline) {
				if (waitpid(pid, &st, 0) == pid) {
					reaped = 1;
					status = st;
				}
				continue;
			}
			usleep(10000);
			continue;
		}
		r = poll(pf, (nfds_t)nfds, wait_ms);
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; r > 0 && i < nfds; i++) {
			struct stream *s = pf[i].fd == out.fd ? &out : &err;
			char tmp[4096];
			ssize_t n;

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(s->fd, tmp, sizeof(tmp));
			if (n > 0) {
				feed(&b, s, tmp, (size_t)n);
				last_io = now_ms();
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				if (s->len)
					flush_line(&b, s);
				close(s->fd);
				s->fd = -1;
			}
		}
	}
	if (out.len)
		flush_line(&b, &out);
	if (err.len)
		flush_line(&b, &err);

	{
		int code;

		if (timed_out) {
			code = 124;
			sig = SIGKILL;
		} else if (!reaped) {
			code = 125;
		} else if (WIFEXITED(status)) {
			code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			sig = WTERMSIG(status);
			code = 128 + sig;
		} else {
			code = 125;
		}
		rec_begin(&b, "step-end");
		if (g_kind) {
			b_str(&b, ",\"kind\":");
			b_jstr(&b, g_kind, strlen(g_kind));
		}
		b_printf(&b, ",\"status\":%d,\"signal\":%d,\"timed_out\":%s,\"elapsed_ms\":%.3f",
			 code, sig, timed_out ? "true" : "false", now_ms() - t0);
		rec_end(&b);
		return code;
	}
}

/* vmstep forward [-s scenario] [-n step] [-l label] FILE: one output record per line */
static int cmd_forward(int argc, char **argv)
{
	struct buf b = { 0 };
	struct stream s = { .name = "output" };
	char tmp[4096];
	ssize_t n;
	int opt, fd;

	optind = 1;
	while ((opt = getopt(argc, argv, "+s:n:l:")) != -1) {
		switch (opt) {
		case 's':
			g_scenario = optarg;
			break;
		case 'n':
			g_step = atol(optarg);
			break;
		case 'l':
			g_label = optarg;
			break;
		default:
			fprintf(stderr, "vmstep forward: bad option\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vmstep forward: FILE expected\n");
		return 2;
	}
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[optind]);
		return 1;
	}
	s.fd = -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		feed(&b, &s, tmp, (size_t)n);
	if (s.len)
		flush_line(&b, &s);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "now") == 0) {
		printf("%.0f\n", now_ms());
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "emit") == 0)
		return cmd_emit(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "forward") == 0)
		return cmd_forward(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr,
		"usage: vmstep now\n"
		"       vmstep emit [-S since_ms] JSON_OBJECT [key=value|key:=number ...]\n"
		"       vmstep run [-s scenario] [-n step] [-l label] [-k kind] [-j] [-T ms] -- ARGV...\n"
		"       vmstep forward [-s scenario] [-n step] [-l label] FILE\n");
	return 2;
}
