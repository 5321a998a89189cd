/* berth — `berth build`: RUN: a container of the stage's image,
 * made and started through the container layer; its upper dir becomes the
 * step's layer.
 * include/berth/build-internal.h says how the executor is split. */
#include "config.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "berth/build-internal.h"
#include "berth/commit.h"
#include "berth/container-spec.h"
#include "berth/lifecycle.h"
#include "berth/unit.h"
#include "berth/util.h"

/* ---- RUN ----------------------------------------------------------------------------- */

static int run_remove_container(struct build *b, struct berth_container *c)
{
        berth_error_t e = NULL;
        (void) unit_wait_inactive(b->bus, container_unit(c), 30 * 1000000ULL, &e);
        berth_error_free(&e);
        cleanup_close int lfd = container_lock(c, &e);
        int r = container_remove(b->store, c, &e);
        berth_error_free(&e);
        return r;
}

/* Start the container with its output on ours (or nowhere with -q). */
static int run_attached(struct build *b, struct berth_container *c, berth_error_t *err)
{
        int saved[2] = { -1, -1 };
        if (b->o->quiet) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                saved[0] = fcntl(1, F_DUPFD_CLOEXEC, 3);
                saved[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                        close(null);
                }
        }
        struct start_io io = { .attach = true, .sig_proxy = true };
        int r = container_start(b->store, b->bus, b->self, c, &io, err);
        for (int i = 0; i < 2; i++)
                if (saved[i] >= 0) {
                        dup2(saved[i], i + 1);
                        close(saved[i]);
                }
        return r;
}

int build_step_run(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err)
{
        char *key = build_key_next(st->key, in->text, st->args, NULL);
        if (build_cache_hit(b, st, key))
                return 0;
        if (!st->img || !st->img->layer_links[0]) {
                free(key);
                return berth_error(err, 0, "%s:%d: RUN needs a base image with a shell (the image has no layers)",
                                   b->dfname, in->line);
        }
        if (!b->bus && unit_bus_open(&b->bus, err) < 0) {
                free(key);
                return build_insn_error(b, in, err);
        }
        cleanup_strv char **cmd = build_command_of(st, in);
        const char *network = df_insn_flag(in, "network");
        if (!network || streq(network, "default"))
                network = b->o->network ? b->o->network : "host";
        /* The step's container: the stage's image as it is now, its
         * working dir, user and environment, the command without the
         * image's ENTRYPOINT. */
        json_t *c = build_cfg(st);
        struct container_spec spec;
        container_spec_init(&spec);
        spec.image = xstrdup(st->img->id);
        spec.command = strv_copy(cmd);
        spec.network = xstrdup(network);
        spec.entrypoint = xstrdup("");
        /* the step's upper dir becomes a layer: its files must carry the
         * image's own ids, not a user namespace's (userns-remap) */
        spec.userns = xstrdup("host");
        const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
        if (wd && *wd)
                spec.workdir = xstrdup(wd);
        const char *user = json_string_value(json_object_get(c, "User"));
        if (user && *user)
                spec.user = xstrdup(user);
        /* the image's Env may be older than the stage's; ARGs unless ENV sets them */
        cleanup_strv char **env = build_stage_env(st);
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        for (size_t i = strv_length(env); i > 0; i--) {
                cleanup_free char *name = xstrndup(env[i - 1], strcspn(env[i - 1], "="));
                if (strv_contains(seen, name))
                        continue;
                strv_push(&seen, name);
                strv_push(&spec.env, env[i - 1]);
        }

        cleanup_container struct berth_container *ctr = NULL;
        struct container_progress progress = { .out = stderr };
        int cr = container_create_from_spec(b->store, &spec, &progress, &ctr, err);
        container_spec_clear(&spec);
        if (cr < 0) {
                free(key);
                return build_insn_error(b, in, err);
        }
        cleanup_free char *sid = container_short_id(ctr->id);
        build_printf(b, " ---> Running in %s\n", sid);
        int r = run_attached(b, ctr, err);
        if (r != 0) {
                run_remove_container(b, ctr);
                free(key);
                cleanup_free char *j = build_strv_join(cmd, " ");
                if (r < 0 && (*err)->exit_code != BERTH_EXIT_CANNOT_EXEC && (*err)->exit_code != BERTH_EXIT_NOT_FOUND)
                        return build_insn_error(b, in, err);
                if (r < 0) {
                        /* an exec form whose program is missing: a failed command too */
                        cleanup_free char *why = xstrdup((*err)->msg);
                        int code = (*err)->exit_code;
                        berth_error_free(err);
                        return berth_error_exit(err, 1, 0, "%s:%d: the command '%s' returned a non-zero code: %d: %s",
                                                b->dfname, in->line, j, code, why);
                }
                return berth_error_exit(err, 1, 0, "%s:%d: the command '%s' returned a non-zero code: %d", b->dfname,
                                        in->line, j, r);
        }
        cleanup_free char *by = build_strv_join(cmd, " ");
        cleanup_free char *now = format_rfc3339(now_ns());
        json_auto_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", by);
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_free char *id = NULL;
        r = image_commit_changes(b->store, ctr, st->img, st->config, entry, &id, err);
        run_remove_container(b, ctr);
        build_printf(b, "Removing intermediate container %s\n", sid);
        if (r < 0) {
                free(key);
                return build_insn_error(b, in, err);
        }
        return build_state_commit_done(b, st, key, id, err);
}

