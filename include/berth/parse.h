/* berth — parsers for the values users type on the command line and in
 * definition files, with Docker's syntax and semantics.
 *
 * Every parser returns 0 (or a documented non-negative value) on success, and
 * on failure a negative value with *err set to one line naming the bad value,
 * e.g. "invalid size: '12q'".  Callers add the flag or file:line as context
 * with berth_error_wrap(). */
#ifndef BERTH_PARSE_H
#define BERTH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/error.h"

/* A size as Docker's RAMInBytes (go-units): "1024", "512m", "1g", "1.5G",
 * "100k", "10kb", "1KiB", "2 GB"; suffixes b k m g t p (case-insensitive,
 * optional trailing "b" or "ib") are binary multiples (k = 1024).  Fractions
 * are truncated to whole bytes.  Negative values are invalid. */
int parse_size(const char *s, uint64_t *out, berth_error_t *err);

/* A Go duration ("10s", "1m30s", "2h", "500ms", "1.5h", "-1s", units ns us
 * µs ms s m h), or a plain integer meaning seconds ("10", "-1"), as
 * `berth stop -t` takes.  *ns is in nanoseconds. */
int parse_duration(const char *s, long long *ns, berth_error_t *err);

/* Exactly Go's time.ParseDuration (no bare integers except "0"). */
int parse_go_duration(const char *s, long long *ns, berth_error_t *err);
/* Go's Duration.String(): "30s", "1m0s", "1h2m3.5s", "500ms", "1.5µs",
 * "0s" (a new string). */
char *format_go_duration(long long ns);

/* A `logs --since/--until` value as Docker's GetTimestamp:
 *  - a Go duration, relative to now_ns: "10m" is now - 10 minutes;
 *  - RFC 3339 / RFC 3339 Nano with "Z" or an offset
 *    ("2006-01-02T15:04:05Z", "2006-01-02T15:04:05.999+02:00");
 *  - "2006-01-02", "2006-01-02T15", "2006-01-02T15:04",
 *    "2006-01-02T15:04:05[.frac]" without a zone: local time, with the zone
 *    offset in effect at now_ns (as Docker's FixedZone(time.Now().Zone()));
 *  - unix seconds with an optional fraction: "1700000000", "1700000000.5".
 * *ns is nanoseconds since the epoch. */
int parse_timestamp(const char *s, long long now_ns, long long *ns, berth_error_t *err);

/* A signal as `docker kill -s` / `--stop-signal`: "TERM", "SIGTERM",
 * "sigkill", "9", "RTMIN", "SIGRTMIN+3", "RTMAX-2".  RTMIN is 34 and RTMAX 64
 * as glibc inside containers (and Docker) see them. */
int parse_signal(const char *s, int *sig, berth_error_t *err);

/* --restart: "no", "always", "unless-stopped", "on-failure",
 * "on-failure:5" ("" means "no").  *policy is a malloc'd copy of the policy
 * name; *max_retries is 0 unless given (0 = unlimited, as Docker). */
int parse_restart_policy(const char *s, char **policy, unsigned *max_retries, berth_error_t *err);

/* --env-file as Docker: KEY=VALUE lines passed through untrimmed, leading
 * whitespace ignored, "#" comments and blank lines skipped, a UTF-8 BOM and
 * CR line ends tolerated; a bare KEY takes its value from berth's own
 * environment and is dropped when unset.  *env is a new strv. */
int parse_env_file(const char *path, char ***env, berth_error_t *err);
/* --label-file: the same format; a line without "=" is a label with an empty value. */
int parse_label_file(const char *path, char ***labels, berth_error_t *err);

/* --cpus as Docker's ParseCPUs: a decimal number of CPUs ("1.5", "0.25",
 * at most 9 decimals) in billionths of a CPU (1.5 → 1500000000). */
int parse_nano_cpus(const char *s, uint64_t *nano, berth_error_t *err);

/* --cpuset-cpus: "0-3", "0,2", "0-1,3" → systemd's CPU bitmask, bit i of
 * byte i/8 for CPU i (the "ay" of AllowedCPUs); *mask is malloc'd, *len > 0.
 * CPU numbers are limited to 0..8191. */
int parse_cpuset(const char *s, unsigned char **mask, size_t *len, berth_error_t *err);
/* The canonical list of a CPU bitmask: {0x0b} → "0-1,3" (malloc'd). */
char *format_cpuset(const unsigned char *mask, size_t len);

/* A whole decimal integer with an optional sign, no spaces or suffixes. */
int parse_int64(const char *s, int64_t *out, berth_error_t *err);

/* Docker's --ulimit NAME=SOFT[:HARD] ("nofile=1024:2048", -1 = unlimited):
 * *property is systemd's "LimitNOFILE"; UINT64_MAX means infinity. */
int parse_ulimit(const char *s, const char **property, uint64_t *soft, uint64_t *hard, berth_error_t *err);

/* A boolean flag with an optional value, as Docker's `--pause`,
 * `--sig-proxy=false`: NULL (no value), "true"/"1" or "false"/"0".  false
 * for anything else (*out untouched). */
bool parse_bool_flag(const char *arg, bool *out);

#endif
