/*
 * /init for a Linux kernel with virtio devices (popek or QEMU, same flags):
 * loads Debian's virtio modules from the initramfs root, then uses what
 * they found, speaking the system-call ABI directly (no C library):
 *   - /dev/vda: prints the first line of sector 0 (the host wrote it),
 *     writes "linux-was-here" at sector 2 and fsyncs it (a virtio-blk write
 *     and flush the host then finds in the image file);
 *   - eth0: prints its MAC address, brings it up (Linux then transmits its
 *     own IPv6 neighbour discovery frames through virtio-net), waits a
 *     little so they go out, and prints the interface's counters.
 * Then powers off. Every step prints one "linux-virtio:" line.
 */

#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_mount 40
#define SYS_openat 56
#define SYS_close 57
#define SYS_read 63
#define SYS_write 64
#define SYS_pread64 67
#define SYS_pwrite64 68
#define SYS_fsync 82
#define SYS_nanosleep 101
#define SYS_reboot 142
#define SYS_socket 198
#define SYS_finit_module 273

#define AT_FDCWD -100
#define O_RDONLY 0
#define O_RDWR 2
#define MODULE_INIT_COMPRESSED_FILE 4
#define AF_INET 2
#define SOCK_DGRAM 2
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define IFF_UP 1

static long sys(long n, long a0, long a1, long a2, long a3, long a4)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a2 __asm__("a2") = a2;
	register long r_a3 __asm__("a3") = a3;
	register long r_a4 __asm__("a4") = a4;
	register long r_a7 __asm__("a7") = n;
	__asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a7) : "memory");
	return r_a0;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s) { sys(SYS_write, 1, (long)s, len(s), 0, 0); }

static void put_dec(long v)
{
	char buf[24];
	int i = 23;
	int neg = v < 0;
	unsigned long u = neg ? -v : v;
	buf[i] = 0;
	do {
		buf[--i] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (neg)
		buf[--i] = '-';
	put(buf + i);
}

static void line(const char *what, long result)
{
	put("linux-virtio: ");
	put(what);
	put(" -> ");
	put_dec(result);
	put("\n");
}

static void load(const char *path)
{
	long fd = sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0, 0);
	long r = fd < 0 ? fd : sys(SYS_finit_module, fd, (long)"", MODULE_INIT_COMPRESSED_FILE, 0, 0);
	if (fd >= 0)
		sys(SYS_close, fd, 0, 0, 0, 0);
	line(path, r);
}

/* Prints a file's first line (sysfs, or a block device's first sector). */
static void show(const char *label, const char *path)
{
	static char buf[512];
	long fd = sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0, 0);
	long n = fd < 0 ? fd : sys(SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0);
	if (fd >= 0)
		sys(SYS_close, fd, 0, 0, 0, 0);
	if (n < 0) {
		line(path, n);
		return;
	}
	buf[n] = 0;
	for (long i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = 0;
	put("linux-virtio: ");
	put(label);
	put(": ");
	put(buf);
	put("\n");
}

static void disk(void)
{
	show("vda sector 0", "/dev/vda");
	long fd = sys(SYS_openat, AT_FDCWD, (long)"/dev/vda", O_RDWR, 0, 0);
	if (fd < 0) {
		line("open /dev/vda", fd);
		return;
	}
	static const char mark[] = "linux-was-here";
	line("pwrite sector 2", sys(SYS_pwrite64, fd, (long)mark, sizeof mark - 1, 1024, 0));
	line("fsync /dev/vda", sys(SYS_fsync, fd, 0, 0, 0, 0));
	sys(SYS_close, fd, 0, 0, 0, 0);
}

static void nic(void)
{
	show("eth0 address", "/sys/class/net/eth0/address");
	struct { char name[16]; short flags; char pad[22]; } ifr = { "eth0", 0, {0} };
	long s = sys(SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0);
	sys(SYS_ioctl, s, SIOCGIFFLAGS, (long)&ifr, 0, 0);
	ifr.flags |= IFF_UP;
	line("eth0 up", sys(SYS_ioctl, s, SIOCSIFFLAGS, (long)&ifr, 0, 0));
	struct { long sec, nsec; } t = { 2, 0 };
	sys(SYS_nanosleep, (long)&t, 0, 0, 0, 0);
	show("eth0 tx_packets", "/sys/class/net/eth0/statistics/tx_packets");
}

void _start(void)
{
	sys(SYS_mkdirat, AT_FDCWD, (long)"/dev", 0755, 0, 0);
	sys(SYS_mkdirat, AT_FDCWD, (long)"/sys", 0755, 0, 0);
	line("mount devtmpfs", sys(SYS_mount, (long)"devtmpfs", (long)"/dev", (long)"devtmpfs", 0, 0));
	line("mount sysfs", sys(SYS_mount, (long)"sysfs", (long)"/sys", (long)"sysfs", 0, 0));
	load("/virtio_mmio.ko.xz");
	load("/virtio_blk.ko.xz");
	load("/failover.ko.xz");
	load("/net_failover.ko.xz");
	load("/virtio_net.ko.xz");
	disk();
	nic();
	put("linux-virtio: done\n");
	sys(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0, 0);
	for (;;)
		;
}
