/*
 * vmexit: ends the test VM through qemu's isa-debug-exit device
 * (-device isa-debug-exit,iobase=0xf4,iosize=0x04).
 * qemu then exits with status (code << 1) | 1.
 * Usage: vmexit [code]   (code 0..127, default 0)
 * Built with gcc -static; needs no /dev/port (the cloud kernel lacks it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	long code = argc > 1 ? strtol(argv[1], NULL, 0) : 0;

	if (code < 0 || code > 127)
		code = 127;
	if (ioperm(0xf4, 4, 1) != 0) {
		perror("vmexit: ioperm(0xf4)");
		return 1;
	}
	outb((unsigned char)code, 0xf4);
	/* Only reached when the device is missing. */
	fprintf(stderr, "vmexit: isa-debug-exit did not stop the VM\n");
	return 1;
}
