/* berth — events: the journal entry each one is, and filtering and printing
 * them back (event.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "berth/error.h"
#include "berth/event.h"
#include "berth/journal-dl.h"
#include "berth/util.h"

static void attr_add(json_t *attrs, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq)
                json_object_set_new(attrs, kv, json_string(""));
        else {
                cleanup_free char *k = xstrndup(kv, (size_t) (eq - kv));
                json_object_set_new(attrs, k, json_string(eq + 1));
        }
}

void event_emit(const char *type, const char *action, const char *actor_id, char *const *attrs, json_t *labels)
{
        static bool warned;
        const char *onoff = getenv("BERTH_EVENTS");
        if (onoff && streq(onoff, "0"))
                return;
        json_auto_t *a = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v) {
                if (json_is_string(v))
                        json_object_set(a, k, v);
        }
        for (char *const *p = attrs; p && *p; p++)
                attr_add(a, *p);
        cleanup_free char *aj = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
        /* libsystemd on first use: berth-generator, which links this, maps it
         * only when it has something for the journal */
        berth_error_t e = NULL;
        if (journal_dl_load(&e) < 0) {
                if (!warned) {
                        warned = true;
                        berth_warn_error(&e, "could not write the %s %s event to the journal", type, action);
                }
                berth_error_free(&e);
                return;
        }
        int r = sym_sd_journal_send("MESSAGE=%s %s %s", type, action, actor_id ? actor_id : "",
                                "MESSAGE_ID=" EVENT_MESSAGE_ID, "PRIORITY=6", "SYSLOG_IDENTIFIER=berth",
                                "BERTH_EVENT_TYPE=%s", type, "BERTH_EVENT_ACTION=%s", action,
                                "BERTH_EVENT_ID=%s", actor_id ? actor_id : "", "BERTH_EVENT_ATTRS=%s",
                                aj ? aj : "{}", "BERTH_EVENT_TIMENANO=%lld", now_ns(), NULL);
        if (r < 0 && !warned) {
                warned = true;
                berth_warn("could not write the %s %s event to the journal: %s", type, action, strerror(-r));
        }
}

void event_filter_free(struct event_filter *f)
{
        strv_free(f->type);
        strv_free(f->container);
        strv_free(f->image);
        strv_free(f->event);
        strv_free(f->label);
        *f = (struct event_filter) {};
}

int event_filter_add(struct event_filter *f, const char *spec, berth_error_t *err)
{
        const char *eq = strchr(spec, '=');
        if (!eq || eq == spec || !eq[1])
                return berth_error(err, 0, "bad format of filter (expected name=value): %s", spec);
        size_t kl = (size_t) (eq - spec);
        const char *val = eq + 1;
        static const char *const types[] = { "container", "image", "volume", "network", NULL };
        if (kl == 4 && strncmp(spec, "type", 4) == 0) {
                if (!strv_contains((char *const *) types, val))
                        return berth_error(err, 0, "invalid filter 'type=%s'", val);
                strv_push(&f->type, val);
        } else if (kl == 9 && strncmp(spec, "container", 9) == 0)
                strv_push(&f->container, val);
        else if (kl == 5 && strncmp(spec, "image", 5) == 0)
                strv_push(&f->image, val);
        else if (kl == 5 && strncmp(spec, "event", 5) == 0)
                strv_push(&f->event, val);
        else if (kl == 5 && strncmp(spec, "label", 5) == 0)
                strv_push(&f->label, val);
        else
                return berth_error(err, 0, "invalid filter '%.*s'", (int) kl, spec);
        return 0;
}

static const char *attr(const struct event *e, const char *k)
{
        return json_string_value(json_object_get(e->attrs, k));
}

static bool has_prefix(const char *s, const char *p)
{
        return s && strncmp(s, p, strlen(p)) == 0;
}

/* An image filter value against a reference: exact, or without ":latest". */
static bool image_is(const char *ref, const char *want)
{
        if (!ref)
                return false;
        if (streq(ref, want))
                return true;
        size_t n = strlen(want);
        return strncmp(ref, want, n) == 0 && streq(ref + n, ":latest");
}

static bool match_one(char *const *vals, const struct event *e, bool (*fn)(const struct event *, const char *))
{
        if (!vals)
                return true;
        for (char *const *v = vals; *v; v++)
                if (fn(e, *v))
                        return true;
        return false;
}

static bool m_type(const struct event *e, const char *v) { return streq(e->type, v); }
static bool m_event(const struct event *e, const char *v)
{
        /* "health_status" matches "health_status: healthy" too, as Docker. */
        return streq(e->action, v) || (has_prefix(e->action, v) && e->action[strlen(v)] == ':');
}
static bool m_container(const struct event *e, const char *v)
{
        if (!streq(e->type, "container"))
                return false;
        return has_prefix(e->id, v) || (attr(e, "name") && streq(attr(e, "name"), v));
}
static bool m_image(const struct event *e, const char *v)
{
        if (streq(e->type, "image"))
                return image_is(e->id, v) || image_is(attr(e, "name"), v) || has_prefix(e->id, v);
        return image_is(attr(e, "image"), v);
}
static bool m_label(const struct event *e, const char *v)
{
        const char *eq = strchr(v, '=');
        if (!eq)
                return json_object_get(e->attrs, v) != NULL;
        cleanup_free char *k = xstrndup(v, (size_t) (eq - v));
        const char *have = attr(e, k);
        return have && streq(have, eq + 1);
}

bool event_filter_match(const struct event_filter *f, const struct event *e)
{
        return match_one(f->type, e, m_type) && match_one(f->event, e, m_event) &&
               match_one(f->container, e, m_container) && match_one(f->image, e, m_image) &&
               match_one(f->label, e, m_label);
}

json_t *event_to_json(const struct event *e)
{
        json_t *o = json_object();
        if (streq(e->type, "container")) {
                json_object_set_new(o, "status", json_string(e->action));
                json_object_set_new(o, "id", json_string(e->id));
                if (attr(e, "image"))
                        json_object_set_new(o, "from", json_string(attr(e, "image")));
        }
        json_object_set_new(o, "Type", json_string(e->type));
        json_object_set_new(o, "Action", json_string(e->action));
        json_object_set_new(o, "Actor", json_pack("{s:s, s:o}", "ID", e->id, "Attributes",
                                                  e->attrs ? json_incref(e->attrs) : json_object()));
        json_object_set_new(o, "scope", json_string("local"));
        json_object_set_new(o, "time", json_integer(e->time_ns / 1000000000LL));
        json_object_set_new(o, "timeNano", json_integer(e->time_ns));
        return o;
}

static int key_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *event_format_line(const struct event *e)
{
        cleanup_free char *ts = format_rfc3339(e->time_ns);
        struct strbuf b = {};
        strbuf_printf(&b, "%s %s %s %s", ts, e->type, e->action, e->id);
        if (json_object_size(e->attrs) > 0) {
                /* Sorted keys, as Docker prints them. */
                size_t n = json_object_size(e->attrs), i = 0;
                cleanup_free const char **keys = xmalloc(n * sizeof(*keys));
                const char *k;
                json_t *v;
                json_object_foreach(e->attrs, k, v) {
                        (void) v;
                        keys[i++] = k;
                }
                qsort(keys, n, sizeof(*keys), key_cmp);
                strbuf_adds(&b, " (");
                for (i = 0; i < n; i++)
                        strbuf_printf(&b, "%s%s=%s", i ? ", " : "", keys[i], attr(e, keys[i]));
                strbuf_adds(&b, ")");
        }
        return strbuf_steal(&b);
}
