/*
 * sgprobe: sends TEST UNIT READY through SG_IO and prints one JSON line per
 * command (the harness forwards such lines as records).
 *
 * Usage: sgprobe [-n count] [-i interval_ms] [-u] [-t timeout_ms] DEVICE
 *   default: one TUR, one line.
 *   -n count      send up to `count` TURs on the same open fd
 *   -i ms         pause between TURs (default 100)
 *   -u            stop after the first GOOD answer
 *   -t ms         SG_IO timeout (default 10000)
 * Exit status: 0 last TUR GOOD, 1 last TUR not GOOD (CHECK CONDITION, host or
 * driver status), 2 open() or ioctl() failed, 3 usage error.
 *
 * Output fields: device, seq, t_ms (CLOCK_MONOTONIC, comparable with the
 * harness' record timestamps), ioctl_rc, errno, status, masked_status,
 * host_status, driver_status, info, duration, sb_len_wr, resid, sense_format
 * ("none", "fixed", "descriptor" or "unknown"), sense_key, asc, ascq, sense
 * (hex of the bytes written), good (bool).
 */
#include <errno.h>
#include <fcntl.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SENSE_LEN 32

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sgprobe [-n count] [-i interval_ms] [-u] [-t timeout_ms] DEVICE\n");
	exit(3);
}

/* Returns 0 GOOD, 1 not GOOD, 2 ioctl failure. */
static int one_tur(int fd, const char *dev, int seq, unsigned int timeout_ms)
{
	unsigned char cdb[6] = { 0x00, 0, 0, 0, 0, 0 };
	unsigned char sense[SENSE_LEN];
	struct sg_io_hdr io;
	int rc, err, good, i;
	const char *fmt = "none";
	int key = -1, asc = -1, ascq = -1;
	double t;

	memset(&io, 0, sizeof(io));
	memset(sense, 0, sizeof(sense));
	io.interface_id = 'S';
	io.dxfer_direction = SG_DXFER_NONE;
	io.cmd_len = sizeof(cdb);
	io.cmdp = cdb;
	io.mx_sb_len = sizeof(sense);
	io.sbp = sense;
	io.timeout = timeout_ms;

	t = now_ms();
	rc = ioctl(fd, SG_IO, &io);
	err = rc < 0 ? errno : 0;

	if (rc == 0 && io.sb_len_wr > 0) {
		unsigned char code = sense[0] & 0x7f;

		if ((code == 0x70 || code == 0x71) && io.sb_len_wr > 13) {
			fmt = "fixed";
			key = sense[2] & 0x0f;
			asc = sense[12];
			ascq = sense[13];
		} else if ((code == 0x72 || code == 0x73) && io.sb_len_wr > 3) {
			fmt = "descriptor";
			key = sense[1] & 0x0f;
			asc = sense[2];
			ascq = sense[3];
		} else {
			fmt = "unknown";
		}
	}
	good = rc == 0 && (io.info & SG_INFO_OK_MASK) == SG_INFO_OK &&
	       (io.status & 0x7e) == 0;

	printf("{\"tool\":\"sgprobe\",\"device\":");
	json_string(dev);
	printf(",\"seq\":%d,\"t_ms\":%.3f,\"ioctl_rc\":%d,\"errno\":%d,\"errno_name\":",
	       seq, t, rc, err);
	json_string(err ? strerror(err) : "");
	printf(",\"status\":%u,\"masked_status\":%u,\"host_status\":%u,\"driver_status\":%u,"
	       "\"info\":%u,\"duration\":%u,\"sb_len_wr\":%u,\"resid\":%d,\"sense_format\":\"%s\"",
	       io.status, io.masked_status, io.host_status, io.driver_status,
	       io.info, io.duration, io.sb_len_wr, io.resid, fmt);
	if (key >= 0)
		printf(",\"sense_key\":%d,\"asc\":%d,\"ascq\":%d", key, asc, ascq);
	else
		printf(",\"sense_key\":null,\"asc\":null,\"ascq\":null");
	printf(",\"sense\":\"");
	for (i = 0; rc == 0 && i < io.sb_len_wr && i < SENSE_LEN; i++)
		printf("%02x", sense[i]);
	printf("\",\"good\":%s}\n", good ? "true" : "false");
	fflush(stdout);

	if (rc < 0)
		return 2;
	return good ? 0 : 1;
}

int main(int argc, char **argv)
{
	int count = 1, interval = 100, until_good = 0, opt, fd, i, res = 0;
	unsigned int timeout_ms = 10000;
	const char *dev;

	while ((opt = getopt(argc, argv, "n:i:ut:")) != -1) {
		switch (opt) {
		case 'n':
			count = atoi(optarg);
			break;
		case 'i':
			interval = atoi(optarg);
			break;
		case 'u':
			until_good = 1;
			break;
		case 't':
			timeout_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || count < 1 || interval < 0)
		usage();
	dev = argv[optind];

	fd = open(dev, O_RDWR | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(dev, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;

		printf("{\"tool\":\"sgprobe\",\"device\":");
		json_string(dev);
		printf(",\"seq\":0,\"t_ms\":%.3f,\"open_errno\":%d,\"errno_name\":",
		       now_ms(), err);
		json_string(strerror(err));
		printf(",\"good\":false}\n");
		return 2;
	}
	for (i = 0; i < count; i++) {
		if (i > 0 && interval > 0)
			usleep((useconds_t)interval * 1000);
		res = one_tur(fd, dev, i, timeout_ms);
		if (until_good && res == 0)
			break;
	}
	close(fd);
	return res;
}
