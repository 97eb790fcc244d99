/*
 * peakrss: run a command and report its wall time and peak memory, telling
 * anonymous memory (heap: what grows if a program leaks or accumulates)
 * from file-backed pages (an LMDB memory map, shared libraries: page cache
 * the kernel can drop at will).  getrusage's ru_maxrss counts both.
 *
 *   peakrss CMD [ARG...]
 *
 * Prints on stderr, last line: "wall_s maxrss_kb anon_kb file_kb", the last
 * two the peaks of RssAnon and RssFile sampled from /proc every 5 ms.
 * Exits with the command's status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sample(pid_t pid, long *anon, long *file)
{
	char path[64], line[256];
	FILE *fp;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > *anon)
			*anon = v;
		else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > *file)
			*file = v;
	}
	fclose(fp);
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	long anon = 0, file = 0;
	double t0;
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: peakrss command [arg ...]\n");
		return 64;
	}
	t0 = now();
	if ((pid = fork()) == -1) {
		perror("peakrss: fork");
		return 71;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "peakrss: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t r = wait4(pid, &status, WNOHANG, &ru);

		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			perror("peakrss: wait4");
			return 71;
		}
		sample(pid, &anon, &file);
		usleep(5000);
	}
	fprintf(stderr, "%.3f %ld %ld %ld\n", now() - t0, ru.ru_maxrss, anon, file);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
