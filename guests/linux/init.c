/*
 * paravirt's init for the Linux guest: PID 1 of the initramfs, and a tiny shell.
 *
 * Built against the kernel's own tools/include/nolibc (no C library): static, -nostdlib,
 * -march=rv32ima -mabi=ilp32. It mounts /proc, /sys and /dev, then reads commands from the
 * console, one line at a time (the tty's canonical mode does echo and line editing).
 *
 * Built-ins: help, echo, cat, ls, ps (a listing from /proc), uptime, poweroff.
 * Rules: PID 1 must never exit (the kernel would panic), so every error is reported and the
 * shell goes on; nothing here uses 64-bit division (there is no libgcc for rv32 here).
 */

#define PROMPT "paravirt$ "
#define LINE_MAX_LEN 256
#define ARGS_MAX 16

static void say(const char *s)
{
	write(1, s, strlen(s));
}

static void say_error(const char *what, const char *name)
{
	printf("%s: %s: error %d\n", what, name, errno);
}

/* Writes the whole file to stdout. Returns 0, or -1 when it cannot be opened. */
static int print_file(const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write(1, buf, n);
	close(fd);
	return 0;
}

/* Reads up to size-1 bytes of a small file into buf, NUL-terminated. Returns the length or -1. */
static int read_small(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY, 0);
	int len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

static void cmd_help(void)
{
	say("built-ins:\n"
	    "  help              this list\n"
	    "  echo [words...]   print the words\n"
	    "  cat <file...>     print files (try /proc/cpuinfo, /proc/meminfo, /proc/version)\n"
	    "  ls [dir...]       list directories (default: the current one)\n"
	    "  ps                list processes from /proc\n"
	    "  uptime            time since boot and load average\n"
	    "  poweroff          power the machine off\n");
}

static void cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			say(" ");
		say(argv[i]);
	}
	say("\n");
}

static void cmd_cat(int argc, char **argv)
{
	if (argc < 2)
		say("usage: cat <file...>\n");
	for (int i = 1; i < argc; i++)
		if (print_file(argv[i]) < 0)
			say_error("cat", argv[i]);
}

static void list_dir(const char *path)
{
	char buf[1024];
	int fd = open(path, O_RDONLY | O_DIRECTORY, 0);
	int n;

	if (fd < 0) {
		say_error("ls", path);
		return;
	}
	while ((n = getdents64(fd, (struct linux_dirent64 *)buf, sizeof(buf))) > 0) {
		for (int at = 0; at < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);

			at += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			say(d->d_name);
			if (d->d_type == DT_DIR)
				say("/");
			say("\n");
		}
	}
	close(fd);
}

static void cmd_ls(int argc, char **argv)
{
	if (argc < 2) {
		list_dir(".");
		return;
	}
	for (int i = 1; i < argc; i++) {
		if (argc > 2)
			printf("%s:\n", argv[i]);
		list_dir(argv[i]);
	}
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* One line per process: PID, state and name, from /proc/<pid>/stat ("pid (comm) state ..."). */
static void cmd_ps(void)
{
	char buf[1024];
	char path[64];
	char stat[256];
	int fd = open("/proc", O_RDONLY | O_DIRECTORY, 0);
	int n;

	if (fd < 0) {
		say_error("ps", "/proc");
		return;
	}
	say("  PID S COMMAND\n");
	while ((n = getdents64(fd, (struct linux_dirent64 *)buf, sizeof(buf))) > 0) {
		for (int at = 0; at < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);
			char *open_paren, *close_paren;
			size_t name_len;

			at += d->d_reclen;
			if (!all_digits(d->d_name))
				continue;
			name_len = strnlen(d->d_name, 32);
			memcpy(path, "/proc/", 6);
			memcpy(path + 6, d->d_name, name_len);
			memcpy(path + 6 + name_len, "/stat", 6);
			if (read_small(path, stat, sizeof(stat)) <= 0)
				continue;
			open_paren = strchr(stat, '(');
			close_paren = strrchr(stat, ')');
			if (!open_paren || !close_paren || close_paren[1] != ' ')
				continue;
			*close_paren = 0;
			for (size_t pad = name_len; pad < 5; pad++) /* nolibc's printf has no widths */
				say(" ");
			printf("%s %c %s\n", d->d_name, close_paren[2], open_paren + 1);
		}
	}
	close(fd);
}

/* /proc/uptime is "seconds.hh idle.hh"; /proc/loadavg starts with the three averages. */
static void cmd_uptime(void)
{
	char up[64];
	char load[64];
	char *space;
	int spaces = 0;

	if (read_small("/proc/uptime", up, sizeof(up)) <= 0) {
		say_error("uptime", "/proc/uptime");
		return;
	}
	space = strchr(up, ' ');
	if (space)
		*space = 0;
	if (read_small("/proc/loadavg", load, sizeof(load)) <= 0)
		strcpy(load, "?");
	for (char *p = load; *p; p++)
		if (*p == ' ' && ++spaces == 3)
			*p = 0;
	printf("up %s seconds, load average: %s\n", up, load);
}

static void cmd_poweroff(void)
{
	say("powering off\n");
	reboot(LINUX_REBOOT_CMD_POWER_OFF);
	say_error("poweroff", "reboot");
}

/* Splits line into words separated by spaces and tabs; returns the count. */
static int split(char *line, char **argv)
{
	int argc = 0;

	while (*line && argc < ARGS_MAX) {
		while (*line == ' ' || *line == '\t')
			*line++ = 0;
		if (!*line)
			break;
		argv[argc++] = line;
		while (*line && *line != ' ' && *line != '\t')
			line++;
	}
	return argc;
}

static void run(int argc, char **argv)
{
	const char *name = argv[0];

	if (!strcmp(name, "help"))
		cmd_help();
	else if (!strcmp(name, "echo"))
		cmd_echo(argc, argv);
	else if (!strcmp(name, "cat"))
		cmd_cat(argc, argv);
	else if (!strcmp(name, "ls"))
		cmd_ls(argc, argv);
	else if (!strcmp(name, "ps"))
		cmd_ps();
	else if (!strcmp(name, "uptime"))
		cmd_uptime();
	else if (!strcmp(name, "poweroff"))
		cmd_poweroff();
	else
		printf("sh: %s: not found (try help)\n", name);
}

/* Reads one line from the console into line (without the newline). Returns its length or -1. */
static int read_line(char *line, int size)
{
	int len = 0;
	char c;

	for (;;) {
		ssize_t n = read(0, &c, 1);

		if (n <= 0)
			return len > 0 ? len : -1;
		if (c == '\n' || c == '\r')
			break;
		if (len < size - 1)
			line[len++] = c;
	}
	line[len] = 0;
	return len;
}

static void mount_or_warn(const char *source, const char *target, const char *type)
{
	mkdir(target, 0755);
	if (mount(source, target, type, 0, 0) < 0)
		say_error("init: mount", target);
}

int main(void)
{
	char line[LINE_MAX_LEN];
	char *argv[ARGS_MAX + 1];

	mount_or_warn("proc", "/proc", "proc");
	mount_or_warn("sysfs", "/sys", "sysfs");
	mount_or_warn("devtmpfs", "/dev", "devtmpfs");
	say("\nparavirt init: a tiny shell on Linux. Type help for the built-ins.\n");
	for (;;) {
		int argc;

		say(PROMPT);
		if (read_line(line, sizeof(line)) < 0)
			continue;
		argc = split(line, argv);
		if (argc == 0)
			continue;
		argv[argc] = 0;
		run(argc, argv);
	}
}
