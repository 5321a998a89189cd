/* berth — reading events (event.h) back from the journal for `berth events`. */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

#include <signal.h>
#include <stdbool.h>

#include "berth/error.h"
#include "berth/event.h"

struct events_opts {
        long long since_ns; /* 0: from the start of the journal... */
        long long until_ns; /* 0: follow until *stop is set; ahead: follow until then */
        const struct event_filter *filter;
        volatile sig_atomic_t *stop; /* checked about every 250 ms while following */
};

/* Calls show(e, userdata) for each matching berth event in time order; a
 * negative return of show stops and is returned.  With until_ns 0 and since_ns
 * 0 only new events are shown (as `docker events`); with since_ns, the past
 * ones from then first. */
int events_read(const struct events_opts *o, int (*show)(const struct event *e, void *userdata), void *userdata,
                berth_error_t *err);

#endif
