/* berth — container logs in the journal (include/berth/journal.h). */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

/* Docker's entries carry no CODE_FILE/CODE_LINE/CODE_FUNC: do not add ours. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "berth/journal.h"
#include "berth/rootless.h"
#include "berth/util.h"

#define FOLLOW_POLL_USEC 250000ULL  /* how often still_running() is asked */
#define DRAIN_USEC 1000000LL        /* after the container exits: wait this long at most for late lines */

int journal_send_line(const struct log_fields *f, int priority, const char *line, size_t len,
                      unsigned long long ordinal, bool partial)
{
        char id12[13];
        const char *tag = journal_tag_of(f, id12);
        cleanup_free char *msg = xmalloc(len + sizeof("MESSAGE="));
        memcpy(msg, "MESSAGE=", 8);
        memcpy(msg + 8, line, len);
        char prio[32], ord[48];
        snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
        snprintf(ord, sizeof(ord), "CONTAINER_LOG_ORDINAL=%llu", ordinal);
        cleanup_free char *id = xasprintf("CONTAINER_ID=%s", id12);
        cleanup_free char *id_full = f->id_full ? xasprintf("CONTAINER_ID_FULL=%s", f->id_full) : NULL;
        cleanup_free char *name = f->name ? xasprintf("CONTAINER_NAME=%s", f->name) : NULL;
        cleanup_free char *ident = f->name ? xasprintf("SYSLOG_IDENTIFIER=%s", f->name) : NULL;
        cleanup_free char *tagf = xasprintf("CONTAINER_TAG=%s", tag);
        cleanup_free char *image = f->image ? xasprintf("IMAGE_NAME=%s", f->image) : NULL;

        struct iovec iov[10];
        int n = 0;
        iov[n++] = (struct iovec){ msg, len + 8 };
        const char *fields[] = { prio, id, id_full, name, tagf, image, ident, ord,
                                 partial ? "CONTAINER_PARTIAL_MESSAGE=true" : NULL };
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                if (fields[i])
                        iov[n++] = (struct iovec){ (void *) fields[i], strlen(fields[i]) };
        return sd_journal_sendv(iov, n);
}

void journal_lines_feed(struct journal_lines *jl, int stream, const char *buf, size_t n, bool flush)
{
        int prio = stream == 0 ? 6 : 3;
        jl->line[stream] = xrealloc(jl->line[stream], jl->len[stream] + n + 1);
        memcpy(jl->line[stream] + jl->len[stream], buf, n);
        jl->len[stream] += n;
        char *start = jl->line[stream];
        size_t left = jl->len[stream];
        char *nl;
        while ((nl = memchr(start, '\n', left))) {
                size_t l = nl - start;
                if (l > 0 && start[l - 1] == '\r')
                        l--;
                journal_send_line(&jl->fields, prio, start, l, ++jl->ordinal, false);
                left -= nl + 1 - start;
                start = nl + 1;
        }
        if (flush && left > 0) {
                journal_send_line(&jl->fields, prio, start, left, ++jl->ordinal, false);
                left = 0;
        }
        memmove(jl->line[stream], start, left);
        jl->len[stream] = left;
}

void journal_lines_done(struct journal_lines *jl)
{
        free(jl->line[0]);
        free(jl->line[1]);
        jl->line[0] = jl->line[1] = NULL;
}

int journal_open_flags(void)
{
        /* Root reads every file: with a persistent journal (Debian 12's),
         * journald files the lines of a --userns container, whose processes
         * are subordinate ids, as that uid's (user-UID.journal).  A user's
         * berth reads the user's own files; inside its user namespace
         * (compose) it is uid 0 there, so CURRENT_USER would look for
         * root's: it opens what it may read, which the kernel decides as
         * for the user */
        return SD_JOURNAL_LOCAL_ONLY | (rootless() && getuid() == rootless_uid() ? SD_JOURNAL_CURRENT_USER : 0);
}

/* ---- reading ------------------------------------------------------------------ */

static void journal_closep(sd_journal **j)
{
        if (*j)
                sd_journal_close(*j);
}

/* The value of FIELD in the current entry (binary-safe), or NULL. */
static const char *entry_field(sd_journal *j, const char *field, size_t *len)
{
        const void *data;
        size_t n;
        if (sd_journal_get_data(j, field, &data, &n) < 0)
                return NULL;
        size_t fl = strlen(field);
        if (n < fl + 1 || memcmp(data, field, fl) != 0 || ((const char *) data)[fl] != '=')
                return NULL;
        *len = n - fl - 1;
        return (const char *) data + fl + 1;
}

struct printer {
        FILE *last;             /* the stream written last, flushed before switching */
        bool mid_line[2];       /* stdout, stderr: a partial chunk was printed */
};

static int print_entry(sd_journal *j, const struct logs_opts *o, struct printer *pr, uint64_t usec,
                       const char *prefix)
{
        size_t len, plen = 0, partlen = 0, evlen = 0;
        const char *msg = entry_field(j, "MESSAGE", &len);
        if (!msg)
                return 0;
        /* The unit's hooks write the start and die events: journald gives them
         * the unit's LogExtraFields= (CONTAINER_ID_FULL=...), but they are no output. */
        if (entry_field(j, "BERTH_EVENT_TYPE", &evlen))
                return 0;
        const char *prio = entry_field(j, "PRIORITY", &plen);
        const char *part = entry_field(j, "CONTAINER_PARTIAL_MESSAGE", &partlen);
        bool is_err = prio && plen == 1 && prio[0] == '3';
        bool partial = part && partlen == 4 && memcmp(part, "true", 4) == 0;
        FILE *out = is_err ? stderr : stdout;
        if (pr->last && pr->last != out)
                fflush(pr->last);
        pr->last = out;
        if (prefix && !pr->mid_line[is_err])
                fputs(prefix, out);
        if (o->timestamps && !pr->mid_line[is_err]) {
                cleanup_free char *ts = format_rfc3339((long long) usec * 1000);
                fputs(ts, out);
                fputc(' ', out);
        }
        fwrite(msg, 1, len, out);
        if (!partial)
                fputc('\n', out);
        pr->mid_line[is_err] = partial;
        if (ferror(out))
                return -EIO;
        return 0;
}

int journal_show_logs(const char *container_id_full, const struct logs_opts *o,
                      bool (*still_running)(void *userdata), void *userdata, berth_error_t *err)
{
        __attribute__((cleanup(journal_closep))) sd_journal *j = NULL;
        int r = sd_journal_open(&j, journal_open_flags());
        if (r < 0)
                return berth_error(err, -r, "open the journal");
        (void) sd_journal_set_data_threshold(j, 0); /* whole messages, however long */
        cleanup_free char *match = xasprintf("CONTAINER_ID_FULL=%s", container_id_full);
        r = sd_journal_add_match(j, match, 0);
        if (r < 0)
                return berth_error(err, -r, "match the journal on %s", match);
        if (o->follow) {
                /* Set up the inotify watches before reading, so nothing written in
                 * between is missed. */
                r = sd_journal_get_fd(j);
                if (r < 0)
                        return berth_error(err, -r, "watch the journal");
        }

        uint64_t since_us = o->since_ns > 0 ? (uint64_t) o->since_ns / 1000 : 0;
        uint64_t until_us = o->until_ns > 0 ? (uint64_t) o->until_ns / 1000 : 0;
        bool have_entry = false; /* positioned on an entry not yet printed */
        if (o->tail >= 0) {
                r = until_us ? sd_journal_seek_realtime_usec(j, until_us + 1) : sd_journal_seek_tail(j);
                if (r < 0)
                        return berth_error(err, -r, "seek in the journal");
                if (o->tail > 0) {
                        r = sd_journal_previous_skip(j, (uint64_t) o->tail);
                        if (r < 0)
                                return berth_error(err, -r, "read the journal");
                        have_entry = r > 0;
                } else {
                        /* Nothing old: stand on the last entry, print only newer ones. */
                        r = sd_journal_previous(j);
                        if (r < 0)
                                return berth_error(err, -r, "read the journal");
                }
                if (have_entry && since_us) {
                        uint64_t t;
                        if (sd_journal_get_realtime_usec(j, &t) >= 0 && t < since_us) {
                                r = sd_journal_seek_realtime_usec(j, since_us);
                                if (r < 0)
                                        return berth_error(err, -r, "seek in the journal");
                                have_entry = false;
                        }
                }
        } else if (since_us) {
                r = sd_journal_seek_realtime_usec(j, since_us);
                if (r < 0)
                        return berth_error(err, -r, "seek in the journal");
        } else {
                r = sd_journal_seek_head(j);
                if (r < 0)
                        return berth_error(err, -r, "seek in the journal");
        }

        struct printer pr = { 0 };
        bool draining = false;
        long long drain_deadline = 0;
        for (;;) {
                if (!have_entry) {
                        r = sd_journal_next(j);
                        if (r < 0)
                                return berth_error(err, -r, "read the journal");
                        if (r == 0) {
                                if (!o->follow)
                                        break;
                                if (until_us && (uint64_t) now_ns() / 1000 > until_us)
                                        break;
                                fflush(stdout);
                                if (!draining && still_running && !still_running(userdata)) {
                                        draining = true;
                                        drain_deadline = now_ns() + DRAIN_USEC * 1000;
                                }
                                if (draining && now_ns() >= drain_deadline)
                                        break;
                                r = sd_journal_wait(j, FOLLOW_POLL_USEC);
                                if (r < 0)
                                        return berth_error(err, -r, "wait for the journal");
                                if (draining && r == SD_JOURNAL_NOP)
                                        break; /* quiet for a whole poll after the exit: done */
                                continue;
                        }
                }
                have_entry = false;
                uint64_t t = 0;
                r = sd_journal_get_realtime_usec(j, &t);
                if (r < 0)
                        return berth_error(err, -r, "read the journal");
                if (since_us && t < since_us)
                        continue;
                if (until_us && t > until_us)
                        break;
                r = print_entry(j, o, &pr, t, NULL);
                if (r < 0)
                        return berth_error(err, -r, "write the logs");
        }
        fflush(stdout);
        fflush(stderr);
        return 0;
}

/* Where container id's output starts for --tail N: the time of its Nth
 * line from the end, the hooks' events not counted (0: all of it; now for
 * N = 0). */
static int tail_start(const char *id, long tail, uint64_t *start_us, berth_error_t *err)
{
        *start_us = 0;
        if (tail < 0)
                return 0;
        if (tail == 0) {
                *start_us = (uint64_t) now_ns() / 1000 + 1;
                return 0;
        }
        __attribute__((cleanup(journal_closep))) sd_journal *j = NULL;
        int r = sd_journal_open(&j, journal_open_flags());
        if (r < 0)
                return berth_error(err, -r, "open the journal");
        cleanup_free char *match = xasprintf("CONTAINER_ID_FULL=%s", id);
        r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        for (long n = 0; r >= 0 && n < tail;) {
                r = sd_journal_previous(j);
                if (r <= 0)
                        break;
                size_t len;
                if (entry_field(j, "MESSAGE", &len) && !entry_field(j, "BERTH_EVENT_TYPE", &len) &&
                    ++n == tail)
                        r = sd_journal_get_realtime_usec(j, start_us);
        }
        if (r < 0)
                return berth_error(err, -r, "read the journal");
        return 0;
}

int journal_show_many(char *const *ids, char *const *prefixes, const struct logs_opts *o, volatile int *stop,
                      berth_error_t *err)
{
        size_t n = 0;
        while (ids[n])
                n++;
        cleanup_free uint64_t *start = xcalloc(n + 1, sizeof(uint64_t));
        for (size_t i = 0; i < n; i++)
                if (tail_start(ids[i], o->tail, &start[i], err) < 0)
                        return -1;
        __attribute__((cleanup(journal_closep))) sd_journal *j = NULL;
        int r = sd_journal_open(&j, journal_open_flags());
        if (r < 0)
                return berth_error(err, -r, "open the journal");
        (void) sd_journal_set_data_threshold(j, 0);
        for (size_t i = 0; i < n; i++) { /* one field: the matches are ORed */
                cleanup_free char *match = xasprintf("CONTAINER_ID_FULL=%s", ids[i]);
                r = sd_journal_add_match(j, match, 0);
                if (r < 0)
                        return berth_error(err, -r, "match the journal on %s", match);
        }
        uint64_t since_us = o->since_ns > 0 ? (uint64_t) o->since_ns / 1000 : 0;
        r = o->follow ? sd_journal_get_fd(j) : 0;
        if (r >= 0)
                r = since_us ? sd_journal_seek_realtime_usec(j, since_us) : sd_journal_seek_head(j);
        if (r < 0)
                return berth_error(err, -r, "watch the journal");
        struct printer pr = { 0 };
        while (!stop || !*stop) {
                r = sd_journal_next(j);
                if (r < 0)
                        return berth_error(err, -r, "read the journal");
                if (r == 0) {
                        if (!o->follow)
                                break;
                        fflush(stdout);
                        fflush(stderr);
                        r = sd_journal_wait(j, FOLLOW_POLL_USEC);
                        if (r < 0 && r != -EINTR)
                                return berth_error(err, -r, "wait for the journal");
                        continue;
                }
                size_t idlen;
                uint64_t t = 0;
                const char *id = entry_field(j, "CONTAINER_ID_FULL", &idlen);
                if (!id || sd_journal_get_realtime_usec(j, &t) < 0)
                        continue;
                if (o->until_ns > 0 && t > (uint64_t) o->until_ns / 1000)
                        break;
                for (size_t i = 0; i < n; i++) {
                        if (strlen(ids[i]) != idlen || memcmp(ids[i], id, idlen) != 0 || t < start[i] ||
                            t < since_us)
                                continue;
                        r = print_entry(j, o, &pr, t, prefixes ? prefixes[i] : NULL);
                        if (r < 0)
                                return berth_error(err, -r, "write the logs");
                }
        }
        fflush(stdout);
        fflush(stderr);
        return 0;
}

int journal_follow_many(char *const *ids, char *const *prefixes, long long since_ns, volatile int *stop,
                        berth_error_t *err)
{
        struct logs_opts o = { .follow = true, .since_ns = since_ns, .tail = -1 };
        return journal_show_many(ids, prefixes, &o, stop, err);
}

int journal_stream_open(const char *identifier, const char *unit, int priority)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/stdout" };
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || shutdown(fd, SHUT_RD) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        int sndbuf = 8 * 1024 * 1024;
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        /* journald's stream header: identifier, unit, priority, level
         * prefix, forward to syslog, to kmsg, to console */
        cleanup_free char *header = xasprintf("%s\n%s\n%d\n0\n0\n0\n0\n", identifier, unit ? unit : "", priority);
        int r = write_all(fd, header, strlen(header));
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}
