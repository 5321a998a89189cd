/* berth — auto-update (auto-update.h). */
#include "config.h"

#include "berth/auto-update.h"
#include "berth/container.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/registry.h"
#include "berth/unit.h"
#include "berth/util.h"

static int fail(struct auto_update_result *r, berth_error_t *e)
{
        r->updated = "failed";
        r->error = xstrdup(*e ? (*e)->msg : "unknown error");
        berth_error_free(e);
        return 0;
}

/* Is there something newer than the container's image?  *new_id: what the
 * reference names now (NULL in a dry run of the registry policy, where
 * *pending tells). */
static int check_one(struct berth_store *s, struct berth_container *c, const struct auto_update_opts *o,
                     const char *policy, char **new_id, bool *newer, berth_error_t *err)
{
        const char *ref = json_str(c->config, "Config.Image");
        const char *cur = json_str(c->config, "Image");
        *newer = false;
        if (streq(policy, "local")) {
                cleanup_image struct berth_image *img = NULL;
                if (image_lookup(s, ref, &img, err) < 0)
                        return -1;
                *newer = !streq(img->id, cur);
                *new_id = xstrdup(img->id);
                return 0;
        }
        if (o->dry_run) {
                cleanup_image struct berth_image *img = NULL;
                cleanup_free char *digest = NULL;
                if (image_lookup(s, cur, &img, err) < 0 || registry_manifest_digest(ref, &digest, err) < 0)
                        return -1;
                *newer = !img->manifest_digest || !streq(img->manifest_digest, digest);
                return 0;
        }
        struct registry_pull_opts po = { .quiet = true, .progress = o->progress };
        if (registry_pull(s, ref, &po, new_id, err) < 0)
                return -1;
        *newer = !streq(*new_id, cur);
        return 0;
}

static void update_one(struct berth_store *s, sd_bus *bus, struct berth_container *c,
                       const struct auto_update_opts *o, struct auto_update_result *r)
{
        berth_error_t e = NULL;
        if (!json_str(c->config, "Berth.Definition")) {
                berth_error(&e, 0, "%s is not a definition container: only container@NAME.service makes its "
                                   "container afresh from the new image on restart",
                            c->name);
                fail(r, &e);
                return;
        }
        cleanup_free char *new_id = NULL;
        bool newer;
        if (check_one(s, c, o, r->policy, &new_id, &newer, &e) < 0) {
                fail(r, &e);
                return;
        }
        if (!newer) {
                r->updated = "false";
                return;
        }
        if (o->dry_run) {
                r->updated = "pending";
                return;
        }
        const char *old_id = json_str(c->config, "Image");
        if (unit_restart(bus, r->unit, &e) == 0) {
                r->updated = "true";
                return;
        }
        if (!o->rollback) {
                fail(r, &e);
                return;
        }
        /* the new image does not run: the reference back to the old one */
        cleanup_free char *why = xstrdup(e->msg);
        berth_error_free(&e);
        unit_reset_failed(bus, r->unit);
        if (image_tag(s, old_id, r->image, &e) < 0 || unit_restart(bus, r->unit, &e) < 0) {
                berth_error_wrap(&e, "%s; the rollback failed too", why);
                fail(r, &e);
                return;
        }
        r->updated = "rolled back";
        r->error = xasprintf("%s; rolled back to %.19s", why, old_id);
}

int auto_update(struct berth_store *s, sd_bus *bus, const struct auto_update_opts *o,
                struct auto_update_result **out, size_t *n, berth_error_t *err)
{
        struct berth_container **cs = NULL;
        size_t nc = 0;
        if (container_list(s, &cs, &nc, err) < 0)
                return -1;
        struct auto_update_result *v = NULL;
        size_t k = 0;
        for (size_t i = nc; i-- > 0;) { /* oldest first */
                struct berth_container *c = cs[i];
                /* not json_str: the label's name has dots */
                const char *policy =
                        json_string_value(json_object_get(json_at(c->config, "Config.Labels"), AUTO_UPDATE_LABEL));
                if (!policy || streq(policy, "disabled") || !container_is_running(c))
                        continue;
                v = xrealloc(v, (k + 1) * sizeof(*v));
                struct auto_update_result *r = &v[k++];
                *r = (struct auto_update_result) {
                        .unit = xstrdup(container_unit(c)),
                        .container_id = xstrdup(c->id),
                        .container_name = xstrdup(c->name),
                        .image = xstrdup(json_str(c->config, "Config.Image") ?: ""),
                        .policy = xstrdup(policy),
                };
                if (!streq(policy, "registry") && !streq(policy, "local")) {
                        berth_error_t e = NULL;
                        berth_error(&e, 0, "%s: unknown %s policy \"%s\" (use registry or local)", c->name,
                                    AUTO_UPDATE_LABEL, policy);
                        fail(r, &e);
                        continue;
                }
                update_one(s, bus, c, o, r);
        }
        container_list_free(cs, nc);
        *out = v;
        *n = k;
        return 0;
}

void auto_update_results_free(struct auto_update_result *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].unit);
                free(v[i].container_id);
                free(v[i].container_name);
                free(v[i].image);
                free(v[i].policy);
                free(v[i].error);
        }
        free(v);
}
