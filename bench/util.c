/*
 * util.c - samples and /proc readings for the benchmark programs.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* calloc() or exit: the benchmark cannot go on without its memory. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		perror("calloc");
		exit(1);
	}
	return p;
}

void
add(struct samples *s, int64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 16;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	s->v[s->n++] = v;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* qsort() wants a valid pointer even for no samples. */
void
sort(struct samples *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), cmp64);
}

int64_t
pct(struct samples *s, double p)
{
	if (s->n == 0)
		return -1;
	return s->v[(size_t)(p * (double)(s->n - 1))];
}

double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of pid, from /proc/pid/stat. */
double
cpu_seconds(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Fields after the command name, which is in parentheses. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU time the hypervisor gave to others while we waited (the "steal"
 * column of /proc/stat, all CPUs), in seconds: on a shared VM, figures
 * taken while it grows are not this program's. */
double
steal_seconds(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	return n == 8 ? (double)v[7] / (double)sysconf(_SC_CLK_TCK) : 0;
}

/* A "Name: value" field of /proc/pid/status (VmHWM in kB, Threads). */
long
status_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

