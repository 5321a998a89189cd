/* berth — events (`berth events`): each one a structured journal entry.
 *
 * An event is written by event_emit() as a journal entry with
 *   MESSAGE_ID=EVENT_MESSAGE_ID (one ID for every berth event),
 *   BERTH_EVENT_TYPE=container|image|volume|network,
 *   BERTH_EVENT_ACTION=create|start|die|...,
 *   BERTH_EVENT_ID=the actor (container ID, image ID or reference, volume or
 *   network name), BERTH_EVENT_ATTRS=a JSON object of Docker's Actor
 *   Attributes ({"image":"busybox","name":"web","exitCode":"3"}),
 *   BERTH_EVENT_TIMENANO=nanoseconds since the epoch,
 *   and a human MESSAGE.  Emitting never fails the caller's operation: a
 *   journal that cannot be written is warned about once and ignored.
 *   BERTH_EVENTS=0 in the environment turns emitting off (the unit tests).
 *
 * Lives in base/ (it needs only libsystemd's sd_journal_send) so the store
 * can emit image and container record events; reading is in systemd/
 * (events.h). */
#ifndef BERTH_EVENT_H
#define BERTH_EVENT_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/error.h"

#define EVENT_MESSAGE_ID "6b1e3d0f2c9a4e57a8d4c1f0b2e7d935"

/* attrs: NULL-terminated "key=value" strings, or NULL; labels are merged in
 * as further attributes from `labels` (an object of strings, may be NULL). */
void event_emit(const char *type, const char *action, const char *actor_id, char *const *attrs, json_t *labels);

/* One event as read back. */
struct event {
        const char *type, *action, *id;
        long long time_ns;
        json_t *attrs; /* object of strings, borrowed */
};

/* `--filter` of `berth events`: same key OR, different keys AND. */
struct event_filter {
        char **type, **container, **image, **event, **label;
};
void event_filter_free(struct event_filter *f);
#define cleanup_event_filter __attribute__((cleanup(event_filter_free)))
/* "KEY=VALUE"; KEY one of type, container, image, event, label. */
int event_filter_add(struct event_filter *f, const char *spec, berth_error_t *err);
bool event_filter_match(const struct event_filter *f, const struct event *e);

/* Docker's event JSON: Type, Action, Actor {ID, Attributes}, scope, time,
 * timeNano and, for containers, status, id, from. */
json_t *event_to_json(const struct event *e);
/* Docker's text line: "TIME TYPE ACTION ID (k=v, ...)", attributes sorted. */
char *event_format_line(const struct event *e);

#endif
