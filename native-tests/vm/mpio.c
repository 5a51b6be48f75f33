/*
 * mpio: I/O through a multipath map for the multipathd scenarios.
 *
 *   mpio fill DEV BLOCKS
 *       writes BLOCKS 4 KiB blocks of a known pattern (O_DIRECT), fsyncs,
 *       reads them back and checks them; one JSON line.
 *   mpio read DEV BLOCKS STOPFILE [PAUSE_US]
 *       reads the blocks in a loop (O_DIRECT, one block per read, PAUSE_US
 *       between reads, default 2000) and checks every byte, until STOPFILE
 *       exists. JSON lines: "error" for each failed read, "mismatch" for each
 *       wrong block, "stall" for each read that took 1 s or more, and a
 *       final "summary" (reads, bytes, errors, mismatches, max_read_ms,
 *       t_ms of CLOCK_MONOTONIC). Exit status 0 only without errors and
 *       mismatches.
 * DEV may be "@FILE": the device path is the first line of FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BS 4096
#define SEED 0x6d7063676d706367ULL

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void pattern(uint64_t *buf, uint64_t block)
{
	for (uint64_t i = 0; i < BS / 8; i++)
		buf[i] = ((block << 16) | i) ^ SEED;
}

static const char *devpath(const char *arg)
{
	static char path[4096];
	FILE *f;

	if (arg[0] != '@')
		return arg;
	f = fopen(arg + 1, "r");
	if (!f || !fgets(path, sizeof(path), f)) {
		printf("{\"event\":\"error\",\"what\":\"cannot read %s\"}\n",
		       arg + 1);
		exit(2);
	}
	fclose(f);
	path[strcspn(path, "\n")] = 0;
	return path;
}

static int do_fill(const char *dev, uint64_t blocks)
{
	uint64_t *buf, *want;
	int fd = open(dev, O_RDWR | O_DIRECT);
	uint64_t b, bad = 0;

	if (fd < 0 || posix_memalign((void **)&buf, BS, BS) ||
	    posix_memalign((void **)&want, BS, BS)) {
		printf("{\"event\":\"fill\",\"ok\":false,\"dev\":\"%s\","
		       "\"errno\":%d}\n",
		       dev, errno);
		return 1;
	}
	for (b = 0; b < blocks; b++) {
		pattern(buf, b);
		if (pwrite(fd, buf, BS, (off_t)(b * BS)) != BS) {
			printf("{\"event\":\"fill\",\"ok\":false,\"block\":%llu,"
			       "\"errno\":%d}\n",
			       (unsigned long long)b, errno);
			return 1;
		}
	}
	fsync(fd);
	for (b = 0; b < blocks; b++) {
		pattern(want, b);
		if (pread(fd, buf, BS, (off_t)(b * BS)) != BS ||
		    memcmp(buf, want, BS))
			bad++;
	}
	close(fd);
	printf("{\"event\":\"fill\",\"ok\":%s,\"dev\":\"%s\",\"blocks\":%llu,"
	       "\"bad\":%llu,\"t_ms\":%.0f}\n",
	       bad ? "false" : "true", dev, (unsigned long long)blocks,
	       (unsigned long long)bad, now_ms());
	return bad != 0;
}

static int
do_read(const char *dev, uint64_t blocks, const char *stop, unsigned pause_us)
{
	uint64_t *buf, *want;
	unsigned long long reads = 0, errors = 0, mismatches = 0, stalls = 0;
	double max_ms = 0, t_first = now_ms();
	uint64_t b = 0;
	struct stat st;
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0 || posix_memalign((void **)&buf, BS, BS) ||
	    posix_memalign((void **)&want, BS, BS)) {
		printf("{\"event\":\"summary\",\"ok\":false,\"dev\":\"%s\","
		       "\"open_errno\":%d}\n",
		       dev, errno);
		return 1;
	}
	printf("{\"event\":\"reader-start\",\"dev\":\"%s\",\"t_ms\":%.0f}\n",
	       dev, t_first);
	fflush(stdout);
	while (stat(stop, &st) != 0) {
		double t0 = now_ms(), dt;
		ssize_t n = pread(fd, buf, BS, (off_t)(b * BS));
		int err = errno;

		dt = now_ms() - t0;
		if (dt > max_ms)
			max_ms = dt;
		if (dt >= 1000) {
			stalls++;
			printf("{\"event\":\"stall\",\"block\":%llu,\"ms\":%.0f,"
			       "\"t_ms\":%.0f}\n",
			       (unsigned long long)b, dt, now_ms());
		}
		reads++;
		if (n != BS) {
			errors++;
			printf("{\"event\":\"error\",\"block\":%llu,\"rc\":%zd,"
			       "\"errno\":%d,\"t_ms\":%.0f}\n",
			       (unsigned long long)b, n, n < 0 ? err : 0,
			       now_ms());
		} else {
			pattern(want, b);
			if (memcmp(buf, want, BS)) {
				mismatches++;
				printf("{\"event\":\"mismatch\",\"block\":%llu,"
				       "\"t_ms\":%.0f}\n",
				       (unsigned long long)b, now_ms());
			}
		}
		fflush(stdout);
		b = (b + 1) % blocks;
		if (pause_us)
			usleep(pause_us);
	}
	close(fd);
	printf("{\"event\":\"summary\",\"ok\":%s,\"dev\":\"%s\",\"reads\":%llu,"
	       "\"bytes\":%llu,\"errors\":%llu,\"mismatches\":%llu,"
	       "\"stalls\":%llu,\"max_read_ms\":%.0f,\"ms\":%.0f,"
	       "\"t_ms\":%.0f}\n",
	       errors || mismatches ? "false" : "true", dev, reads,
	       (reads - errors) * BS, errors, mismatches, stalls, max_ms,
	       now_ms() - t_first, now_ms());
	return errors || mismatches;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "fill"))
		return do_fill(devpath(argv[2]), strtoull(argv[3], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "read"))
		return do_read(devpath(argv[2]), strtoull(argv[3], NULL, 0),
			       argv[4],
			       argc > 5 ? (unsigned)strtoul(argv[5], NULL, 0) : 2000);
	fprintf(stderr, "usage: mpio fill DEV BLOCKS | "
			"mpio read DEV BLOCKS STOPFILE [PAUSE_US]\n");
	return 2;
}
