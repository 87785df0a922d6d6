/*
 * failalloc.c - LD_PRELOAD library for tests: makes calloc() fail in the
 * program's own code (not in its libraries) while the file named by
 * RS_FAIL_FILE exists, so a test can run routesim out of memory at a
 * moment of its choosing without upsetting librdkafka or libuv.
 */
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

void *__libc_calloc(size_t n, size_t size);
void *calloc(size_t n, size_t size);

static uintptr_t lo, hi;	/* the program's own mappings */

static int
find_program(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (lo == 0 || a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	return 1;	/* the first object is the program */
}

static const char *file;

__attribute__((constructor)) static void
init(void)
{
	if ((file = getenv("RS_FAIL_FILE")) != NULL)
		dl_iterate_phdr(find_program, NULL);
}

void *
calloc(size_t n, size_t size)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);

	if (file != NULL && caller >= lo && caller < hi &&
	    access(file, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}
