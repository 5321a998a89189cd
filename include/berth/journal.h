/* berth — container logs in the journal, with Docker's journald field names
 * (SPEC.md "Journal fields"): writing lines for attached runs, the
 * LogExtraFields= of unit-managed containers, and reading them back for
 * `berth logs`. */
#ifndef BERTH_JOURNAL_H
#define BERTH_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/error.h"

/* Journal priorities of container output, as Docker's journald driver. */
#define JOURNAL_PRIORITY_STDOUT 6 /* LOG_INFO */
#define JOURNAL_PRIORITY_STDERR 3 /* LOG_ERR */

struct log_fields {
        const char *id_full; /* 64 hex; CONTAINER_ID is its first 12 */
        const char *name;    /* CONTAINER_NAME and SYSLOG_IDENTIFIER */
        const char *tag;     /* CONTAINER_TAG; NULL: the 12-hex ID (Docker's default tag) */
        const char *image;   /* IMAGE_NAME, as the user named it: "nginx:latest" */
};

/* Send one line (or one chunk of a long line, partial = true) of container
 * output: MESSAGE (binary-safe, without the newline), PRIORITY,
 * CONTAINER_ID, CONTAINER_ID_FULL, CONTAINER_NAME, CONTAINER_TAG,
 * IMAGE_NAME, SYSLOG_IDENTIFIER, CONTAINER_LOG_ORDINAL and, for a chunk,
 * CONTAINER_PARTIAL_MESSAGE=true.  Returns 0 or a negative errno (no error
 * object: this runs once per line; the caller decides what a failure means). */
int journal_send_line(const struct log_fields *f, int priority, const char *line, size_t len,
                      unsigned long long ordinal, bool partial);

/* "KEY=VALUE" strings for LogExtraFields= of a container's unit:
 * CONTAINER_ID, CONTAINER_ID_FULL, CONTAINER_NAME, CONTAINER_TAG, IMAGE_NAME.
 * SYSLOG_IDENTIFIER is deliberately not among them: journald already adds
 * one to every stream line, so set the unit's SyslogIdentifier=NAME instead
 * (a second SYSLOG_IDENTIFIER field would make the entry carry two).
 * Returns a new strv; fields whose value is NULL are left out. */
char **journal_extra_fields(const struct log_fields *f);
/* CONTAINER_TAG: the --log-opt tag, else the short ID (written into ID12). */
const char *journal_tag_of(const struct log_fields *f, char id12[static 13]);

/* A container's stdout (stream 0, PRIORITY=6) and stderr (1, PRIORITY=3)
 * cut into lines for journal_send_line(), as Docker's journald driver logs
 * them: whole lines without the newline (and a trailing \r), the rest at
 * EOF (flush). */
struct journal_lines {
        struct log_fields fields;
        unsigned long long ordinal;
        char *line[2];
        size_t len[2];
};
void journal_lines_feed(struct journal_lines *jl, int stream, const char *buf, size_t n, bool flush);
void journal_lines_done(struct journal_lines *jl);

/* The journal files berth's entries are in: all of them for root (a
 * --userns container's are a subordinate uid's), the user's own for a
 * user's berth (journalctl --user). */
int journal_open_flags(void);

struct logs_opts {
        bool follow;         /* -f */
        bool timestamps;     /* -t: RFC 3339 Nano (UTC) + space before each line */
        long long since_ns;  /* 0: from the start */
        long long until_ns;  /* 0: no end */
        long tail;           /* --tail N; -1 = all */
};

/* Print a container's output from the local system journal, matching
 * CONTAINER_ID_FULL=<id>: MESSAGE bytes exactly as written, to stdout, or to
 * stderr for PRIORITY=3 entries, each followed by "\n" unless it is a
 * CONTAINER_PARTIAL_MESSAGE=true chunk.
 * While following, still_running(userdata) is polled about every 250 ms;
 * once it returns false (the container has exited) the lines still arriving
 * are printed (journald may lag the exit; at most 1 s more) and the function
 * returns.  still_running NULL: follow until killed or until_ns passes. */
int journal_show_logs(const char *container_id_full, const struct logs_opts *o,
                      bool (*still_running)(void *userdata), void *userdata, berth_error_t *err);

/* Follow the output of several containers (CONTAINER_ID_FULL= of ids[i])
 * from since_ns on, each line printed to stdout after prefixes[i] (as
 * `docker compose up` attached: "proj-web-1  | "), until *stop is set (by a
 * signal handler: the wait is interrupted) or the journal fails. */
int journal_follow_many(char *const *ids, char *const *prefixes, long long since_ns, volatile int *stop,
                        berth_error_t *err);

/* The output of several containers (CONTAINER_ID_FULL= of ids[i]) in time
 * order, each line after prefixes[i] (prefixes NULL: none), stdout or stderr
 * by PRIORITY as journal_show_logs(): o->tail is per container (output
 * lines, the hooks' events not counted), o->since_ns/
 * until_ns bound the time, o->timestamps puts the time after the prefix;
 * with o->follow until *stop is set (stop may be NULL without follow). */
int journal_show_many(char *const *ids, char *const *prefixes, const struct logs_opts *o, volatile int *stop,
                      berth_error_t *err);

/* A journal stream (what a unit's StandardOutput=journal is) whose lines
 * belong to `unit`: journald takes the unit from the stream header when the
 * writing process is gone before its line is read (a short-lived child), so
 * _SYSTEMD_UNIT= and the unit's LogExtraFields= (CONTAINER_NAME=...) are on
 * every line.  The unit name is honoured for root peers only, as berth is.
 * Returns the fd or a negative errno. */
int journal_stream_open(const char *identifier, const char *unit, int priority);

#endif
