/* berth — small helpers shared by every module: cleanup attributes, file I/O
 * with atomic replace, string helpers.  No berth-specific state here. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/un.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "berth/error.h"

/* ---- cleanup attributes ------------------------------------------------ */
static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) { int e = errno; close(*fd); errno = e; } }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }

#define cleanup_free __attribute__((cleanup(freep)))
#define cleanup_close __attribute__((cleanup(closep)))
#define cleanup_fclose __attribute__((cleanup(fclosep)))
#define cleanup_dir __attribute__((cleanup(closedirp)))
#define cleanup_strv __attribute__((cleanup(strv_freep)))

/* Move ownership out of a cleanup variable. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)

/* ---- allocation: abort on OOM, as systemd's xmalloc style ---------------- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- string vectors (NULL-terminated char **) ---------------------------- */
size_t strv_length(char *const *v);
char **strv_copy(char *const *v);
/* Append a copy of s; *v may be NULL. */
void strv_push(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
/* Set "K=V" in an environment list, replacing an entry with the same K. */
void strv_env_set(char ***env, const char *kv);
bool startswith(const char *s, const char *prefix);
/* Split s in place at sep into at most max parts; returns how many were
 * found, max meaning "max or more" (the rest is not split further). */
size_t strsplit_inplace(char *s, char sep, char **parts, size_t max);

/* ---- files ---------------------------------------------------------------- */
/* PATH made absolute against BASE (the working directory when NULL) and
 * cleaned lexically as Go's filepath.Abs does ("a/./b/../c" -> "/BASE/a/c");
 * symlinks are not resolved. The CLI calls this on every path a user types,
 * once, before anything changes directory or enters a namespace. */
char *path_absolute(const char *base, const char *path);
/* A relative name cleaned lexically, for names inside a tree that must not
 * leave it (archive members, layer entries, paths under a container's
 * root): "./a//b/../c/" -> "a/c", a leading "/" dropped.  NULL when ".."
 * would climb above the top or nothing is left (the top itself). */
char *path_normalize_relative(const char *p);
/* mkdir -p with the given mode; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, berth_error_t *err);
/* One read(2) of at most size bytes, again when a signal interrupts it: the
 * bytes read, 0 at the end, or negative with the error "read `NAME`" (name
 * says what fd is).  For the loops that stream a file into a hash, a blob or
 * an archive a chunk at a time. */
ssize_t read_chunk(int fd, void *buf, size_t size, const char *name, berth_error_t *err);
/* Read a whole file (NUL-terminated); *len may be NULL. */
int read_file(const char *path, char **out, size_t *len, berth_error_t *err);
/* The AF_UNIX address of NAME in directory DIR however long DIR's path is
 * (sun_path holds 107 bytes; a user's runtime dir is longer than root's):
 * "/proc/self/fd/N/NAME" over *dirfd, an O_PATH descriptor of DIR the
 * caller closes after bind() or connect(). */
int unix_addr_in_dir(const char *dir, const char *name, struct sockaddr_un *sa, int *dirfd, berth_error_t *err);
/* Write atomically: a temp file in the same dir renamed over path, so a
 * reader sees the old or the new content, never a mix.  How much survives
 * a crash is the caller's choice, as few syncs as its guarantee needs:
 *   WRITE_DURABLE   fsync the file, rename, fsync the dir: the new content
 *                   is there after a crash (images, definitions, secrets);
 *   WRITE_WHOLE     fsync the file, rename: after a crash the old or the
 *                   new content, never an empty or torn file (a record
 *                   whose last change may be lost, such as a container's
 *                   run state, which systemd's unit state overrides);
 *   WRITE_VOLATILE  no sync: files on /run, and files made again from the
 *                   record before each use (a container's hosts file). */
enum write_sync { WRITE_DURABLE, WRITE_WHOLE, WRITE_VOLATILE };
int write_file_atomic_sync(const char *path, const void *data, size_t len, mode_t mode, enum write_sync sync,
                           berth_error_t *err);
/* write_file_atomic_sync(..., WRITE_DURABLE, ...) */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, berth_error_t *err);
/* fsync a directory (its entries: files renamed into it); errors ignored
 * as nothing can be done about them but lose the durability. */
void fsync_dir(const char *path);
/* syncfs() the file system path is on: one sync for a transaction of
 * several new files and renames (their data and names together, one
 * journal commit on ext4) instead of one per file and directory.  Returns
 * 0 or fills err. */
int sync_fs_of(const char *path, berth_error_t *err);
/* rm -rf; missing path is not an error.  Does not cross mount points. */
int rm_rf(const char *path, berth_error_t *err);
/* Write all of buf to fd, retrying on EINTR / short writes. */
int write_all(int fd, const void *buf, size_t len);

/* ---- locks: flock() on a lock file, released by close() ------------------ */
/* Open (creating) path and take an exclusive (or shared) lock; returns fd. */
int lock_file(const char *path, bool exclusive, berth_error_t *err);

/* ---- misc ----------------------------------------------------------------- */
/* Fill buf with n random bytes from getrandom(). */
int random_bytes(void *buf, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of one hex digit (either case), -1 when c is none: for the \xNN
 * and \uNNNN escapes of the parsers (templates, definition files). */
int hex_digit_value(char c);
/* Code point c as UTF-8 into out; returns the bytes written (1 to 4).  The
 * caller checks the range (a c above 0x10FFFF gives 4 meaningless bytes). */
size_t utf8_encode(uint32_t c, char out[static 4]);
/* starttime (field 22 of /proc/PID/stat, clock ticks since boot): with the
 * PID it names a process, so a PID reused by another process is told apart.
 * -1 when the process is gone. */
long long proc_starttime(pid_t pid);
/* Current wall-clock time in nanoseconds since the epoch. */
long long now_ns(void);
/* RFC 3339 with nanoseconds, UTC, as Docker prints ("2024-01-02T03:04:05.123456789Z"). */
char *format_rfc3339(long long ns);
/* The other way: Docker's RFC 3339 timestamps ("Z" only; an offset is
 * ignored) back to ns since the epoch, 0 if unparsable or NULL. */
long long parse_rfc3339_ns(const char *s);
/* "2 minutes ago", "About an hour ago" ... as Docker's go-units HumanDuration. */
char *format_human_ago(long long ns);
/* Docker's Ellipsis: s when it has at most max characters (UTF-8), else its
 * first max-1 characters and "…". */
char *format_ellipsis(const char *s, size_t max);
/* "5.2MB" as Docker's go-units HumanSize (decimal units, 3 significant digits). */
char *format_human_size(long long bytes);

/* A growing NUL-terminated string.  s is NULL until something is added. */
struct strbuf {
        char *s;
        size_t len, cap;
};
void strbuf_addn(struct strbuf *b, const char *p, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string (never NULL), ownership to the caller; the buffer is empty. */
char *strbuf_steal(struct strbuf *b);
static inline void strbuf_freep(struct strbuf *b) { free(b->s); }
#define cleanup_strbuf __attribute__((cleanup(strbuf_freep)))
/* Docker's progress bar: "[=====>      ]  1.2MB/5MB" (50 columns); total 0:
 * unknown, an empty bar and the bytes done only. */
char *format_progress_bar(long long done, long long total);

#endif
