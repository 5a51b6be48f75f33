/*
 * sgcdb: sends SCSI commands given as hex CDBs through SG_IO on one open fd
 * and prints one JSON line per command (the harness forwards such lines as
 * records). Used by the ALUA VM test to read what a device answers to
 * INQUIRY VPD 0x83 and REPORT TARGET PORT GROUPS, byte for byte, so the
 * spec's interpreter can be run on the real answers.
 *
 * Usage: sgcdb [-l alloc_len] [-t timeout_ms] DEVICE CDB...
 *   CDB           hex bytes, e.g. 1201830800000 (no blanks)
 *   -l alloc_len  data-in buffer size (default 4096; 0: no data transfer)
 *   -t ms         SG_IO timeout (default 10000)
 * Exit status: 0 every command GOOD, 1 some command not GOOD, 2 open() or
 * ioctl() failed, 3 usage error.
 *
 * Output fields: device, seq, cdb (hex), t_ms (CLOCK_MONOTONIC), ioctl_rc,
 * errno, status, host_status, driver_status, info, resid, sb_len_wr,
 * sense_key, asc, ascq (null without sense), sense (hex), data (hex of the
 * dxfer_len - resid bytes received; GOOD commands only), good (bool).
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
#define MAX_CDB 16
#define MAX_DATA 65536

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: sgcdb [-l alloc_len] [-t timeout_ms] DEVICE CDB...\n");
	exit(3);
}

static int parse_cdb(const char *hex, unsigned char *cdb)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 < 6 || n / 2 > MAX_CDB)
		return -1;
	for (i = 0; i < n / 2; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
		char *end;

		cdb[i] = (unsigned char)strtoul(b, &end, 16);
		if (*end)
			return -1;
	}
	return (int)(n / 2);
}

static void hex(const unsigned char *p, int n)
{
	int i;

	putchar('"');
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('"');
}

/* Returns 0 GOOD, 1 not GOOD, 2 ioctl failure. */
static int one_cmd(int fd, const char *dev, int seq, const char *cdbhex,
		   unsigned int alloc, unsigned int timeout_ms)
{
	static unsigned char data[MAX_DATA];
	unsigned char cdb[MAX_CDB], sense[SENSE_LEN];
	struct sg_io_hdr io;
	int len, rc, err, good, key = -1, asc = -1, ascq = -1, got = 0;
	double t;

	len = parse_cdb(cdbhex, cdb);
	if (len < 0)
		usage();
	memset(&io, 0, sizeof(io));
	memset(sense, 0, sizeof(sense));
	memset(data, 0, sizeof(data));
	io.interface_id = 'S';
	io.dxfer_direction = alloc ? SG_DXFER_FROM_DEV : SG_DXFER_NONE;
	io.dxfer_len = alloc;
	io.dxferp = alloc ? data : NULL;
	io.cmd_len = (unsigned char)len;
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
			key = sense[2] & 0x0f;
			asc = sense[12];
			ascq = sense[13];
		} else if ((code == 0x72 || code == 0x73) && io.sb_len_wr > 3) {
			key = sense[1] & 0x0f;
			asc = sense[2];
			ascq = sense[3];
		}
	}
	good = rc == 0 && (io.info & SG_INFO_OK_MASK) == SG_INFO_OK &&
	       (io.status & 0x7e) == 0;
	/* on CHECK CONDITION sg reports resid 0 and copies back whatever its
	 * buffer held: only the data of a GOOD command is printed */
	if (good && alloc) {
		got = (int)alloc - io.resid;
		if (got < 0)
			got = 0;
		if (got > (int)alloc)
			got = (int)alloc;
	}

	printf("{\"tool\":\"sgcdb\",\"device\":\"%s\",\"seq\":%d,\"cdb\":\"%s\",\"t_ms\":%.3f,"
	       "\"ioctl_rc\":%d,\"errno\":%d,\"status\":%u,\"host_status\":%u,"
	       "\"driver_status\":%u,\"info\":%u,\"resid\":%d,\"sb_len_wr\":%u",
	       dev, seq, cdbhex, t, rc, err, io.status, io.host_status,
	       io.driver_status, io.info, io.resid, rc == 0 ? io.sb_len_wr : 0);
	if (key >= 0)
		printf(",\"sense_key\":%d,\"asc\":%d,\"ascq\":%d", key, asc, ascq);
	else
		printf(",\"sense_key\":null,\"asc\":null,\"ascq\":null");
	printf(",\"sense\":");
	hex(sense, rc == 0 && io.sb_len_wr < SENSE_LEN ? io.sb_len_wr : (rc == 0 ? SENSE_LEN : 0));
	printf(",\"data\":");
	hex(data, got);
	printf(",\"good\":%s}\n", good ? "true" : "false");
	fflush(stdout);
	if (rc < 0)
		return 2;
	return good ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned int alloc = 4096, timeout_ms = 10000;
	int opt, fd, i, res = 0, r;
	const char *dev;

	while ((opt = getopt(argc, argv, "l:t:")) != -1) {
		switch (opt) {
		case 'l':
			alloc = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			timeout_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind > argc - 2 || alloc > MAX_DATA)
		usage();
	dev = argv[optind];
	if (strpbrk(dev, "\"\\"))
		usage();
	fd = open(dev, O_RDWR | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(dev, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("{\"tool\":\"sgcdb\",\"device\":\"%s\",\"seq\":0,\"open_errno\":%d,\"good\":false}\n",
		       dev, errno);
		return 2;
	}
	for (i = optind + 1; i < argc; i++) {
		r = one_cmd(fd, dev, i - optind - 1, argv[i], alloc, timeout_ms);
		if (r > res)
			res = r;
	}
	close(fd);
	return res;
}
