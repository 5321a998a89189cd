/* berth — what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each target is one LLVMFuzzerTestOneInput() over one parser; it frees
 * everything it gets back (LeakSanitizer fails the run otherwise).  Inputs
 * are bytes: fuzz_text() makes the NUL-terminated string the parsers take
 * (an embedded NUL ends it early, as it would in a file berth reads), and
 * fuzz_file() puts the bytes in a memfd for the parsers that take a path. */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "berth/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd, NUL-terminated copy of the input. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        char *s = xmalloc(size + 1);
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* A memfd holding the input; *path is "/proc/self/fd/N" to open it by name.
 * Returns the fd (close it when done) or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, char path[static 32])
{
        int fd = memfd_create("berth-fuzz", MFD_CLOEXEC);
        if (fd < 0)
                return -1;
        if (write_all(fd, data, size) < 0) {
                close(fd);
                return -1;
        }
        snprintf(path, 32, "/proc/self/fd/%d", fd);
        return fd;
}

#endif
