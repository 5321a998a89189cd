/* berth — events read back from the journal (events.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "berth/event.h"
#include "berth/events.h"
#include "berth/journal.h"
#include "berth/util.h"

#define FOLLOW_POLL_USEC 250000

static void journal_closep(sd_journal **j)
{
        if (*j)
                sd_journal_close(*j);
}

/* FIELD's value in the current entry as a new string, or NULL. */
static char *field(sd_journal *j, const char *name)
{
        const void *data;
        size_t n, fl = strlen(name);
        if (sd_journal_get_data(j, name, &data, &n) < 0 || n < fl + 1)
                return NULL;
        return xstrndup((const char *) data + fl + 1, n - fl - 1);
}

/* Whether the entry is shown: 1 shown or skipped, a negative value from show. */
static int entry(sd_journal *j, const struct events_opts *o, int (*show)(const struct event *, void *), void *ud)
{
        cleanup_free char *type = field(j, "BERTH_EVENT_TYPE"), *action = field(j, "BERTH_EVENT_ACTION"),
                          *id = field(j, "BERTH_EVENT_ID"), *attrs = field(j, "BERTH_EVENT_ATTRS"),
                          *tn = field(j, "BERTH_EVENT_TIMENANO");
        if (!type || !action)
                return 0;
        json_auto_t *a = attrs ? json_loads(attrs, 0, NULL) : NULL;
        if (!json_is_object(a)) {
                json_decref(a);
                a = json_object();
        }
        struct event e = { .type = type, .action = action, .id = id ? id : "", .attrs = a };
        e.time_ns = tn ? strtoll(tn, NULL, 10) : 0;
        if (e.time_ns <= 0) {
                uint64_t us = 0;
                (void) sd_journal_get_realtime_usec(j, &us);
                e.time_ns = (long long) us * 1000;
        }
        if (o->since_ns && e.time_ns < o->since_ns)
                return 0;
        if (o->until_ns && e.time_ns > o->until_ns)
                return 0;
        if (o->filter && !event_filter_match(o->filter, &e))
                return 0;
        return show(&e, ud);
}

int events_read(const struct events_opts *o, int (*show)(const struct event *e, void *userdata), void *userdata,
                berth_error_t *err)
{
        __attribute__((cleanup(journal_closep))) sd_journal *j = NULL;
        int r = sd_journal_open(&j, journal_open_flags());
        if (r < 0)
                return berth_error(err, -r, "open the journal");
        r = sd_journal_add_match(j, "MESSAGE_ID=" EVENT_MESSAGE_ID, 0);
        if (r < 0)
                return berth_error(err, -r, "match the journal");
        /* Docker's: follow without --until, or until an --until still ahead */
        bool follow = o->until_ns == 0 || o->until_ns > now_ns();
        if (follow) {
                r = sd_journal_get_fd(j);
                if (r < 0)
                        return berth_error(err, -r, "watch the journal");
        }
        if (o->since_ns) {
                /* The journal's own time can be a little before ours: start 1 s early. */
                long long us = o->since_ns / 1000 - 1000000;
                r = sd_journal_seek_realtime_usec(j, us > 0 ? (uint64_t) us : 0);
        } else if (follow) {
                r = sd_journal_seek_tail(j);
                if (r >= 0)
                        r = sd_journal_previous(j); /* stand on the last entry: only newer ones */
        } else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return berth_error(err, -r, "seek in the journal");

        for (;;) {
                if (o->stop && *o->stop)
                        break;
                r = sd_journal_next(j);
                if (r < 0)
                        return berth_error(err, -r, "read the journal");
                if (r == 0) {
                        if (!follow || (o->until_ns && now_ns() > o->until_ns))
                                break;
                        fflush(stdout);
                        r = sd_journal_wait(j, FOLLOW_POLL_USEC);
                        if (r < 0 && r != -EINTR)
                                return berth_error(err, -r, "wait for the journal");
                        continue;
                }
                r = entry(j, o, show, userdata);
                if (r < 0)
                        return r;
        }
        fflush(stdout);
        return 0;
}
