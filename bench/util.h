/*
 * util.h - what the benchmark programs share: samples and percentiles,
 * and what /proc says of a process (CPU time, peak memory, threads).
 * A failed allocation ends the program: a benchmark cannot go on without
 * its memory.
 */
#ifndef RS_BENCH_UTIL_H
#define RS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growing list of int64_t samples; the caller frees v. */
struct samples {
	int64_t *v;
	size_t n, cap;
};

void *xcalloc(size_t n, size_t size);
void add(struct samples *s, int64_t v);
void sort(struct samples *s);
/* The p-quantile (0..1) of sorted samples, or -1 when there are none. */
int64_t pct(struct samples *s, double p);
double mono_s(void);
/* CPU seconds (user + system) of pid, or -1. */
double cpu_seconds(pid_t pid);
/* CPU time the hypervisor gave to others, all CPUs, in seconds. */
double steal_seconds(void);
/* A "Name: value" field of /proc/pid/status (VmHWM in kB, Threads). */
long status_field(pid_t pid, const char *name);

#endif
