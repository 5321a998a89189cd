/* berth — making a container from a struct container_spec (container-spec.h):
 * the image, config.json in the shape of `docker inspect`, the network and
 * volumes, the record. */
#include "config.h"

#include <sys/stat.h>

#include "berth/caps.h"
#include "berth/container-spec.h"
#include "berth/container-update.h"
#include "berth/container.h"
#include "berth/idmap.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/seccomp.h"
#include "berth/sha256.h"
#include "berth/secret.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/util.h"
#include "berth/volume.h"

/* -v and --mount into config.json's Berth.Mounts / Binds (volume.c makes
 * named and anonymous volumes, also for the image's VOLUME paths, and holds
 * their locks in holds until the container is recorded). */
static int build_mounts(struct berth_store *store, const struct container_spec *o, struct berth_image *img,
                        json_t *mounts, json_t *binds, char ***tmpfs, struct volume_holds *holds, berth_error_t *err)
{
        size_t nv = strv_length(o->volumes), nm = strv_length(o->mounts);
        struct mount_spec *specs = xcalloc(nv + nm + 1, sizeof(*specs));
        int r = 0;
        /* parse all first: a bad spec creates no volume */
        for (size_t i = 0; r == 0 && i < nv + nm; i++)
                r = i < nv ? mount_spec_parse_volume(o->volumes[i], &specs[i], err)
                           : mount_spec_parse_mount(o->mounts[i - nv], &specs[i], err);
        if (r == 0) {
                cleanup_free char *lowerdir = image_lowerdir(img);
                json_t *ivols = json_object_get(json_object_get(img->config, "config"), "Volumes");
                r = volume_prepare_mounts(store, specs, nv + nm, json_is_object(ivols) ? ivols : NULL, lowerdir,
                                          mounts, tmpfs, holds, err);
        }
        for (size_t i = 0; r == 0 && i < nv; i++)
                if (specs[i].kind != MOUNT_SPEC_ANON) /* Docker lists binds and named volumes there */
                        json_array_append_new(binds, json_string(o->volumes[i]));
        for (size_t i = 0; i < nv + nm; i++)
                mount_spec_clear(&specs[i]);
        free(specs);
        return r;
}

/* The container's environment: the image's, then --env-file, then -e. */
static int build_env(json_t *icfg, const struct container_spec *o, char ***out, berth_error_t *err)
{
        cleanup_strv char **env = NULL;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(icfg, "Env"), i, e)
                if (json_is_string(e) && strchr(json_string_value(e), '='))
                        strv_push(&env, json_string_value(e));
        for (size_t f = 0; o->env_files && o->env_files[f]; f++) {
                cleanup_strv char **fenv = NULL;
                if (parse_env_file(o->env_files[f], &fenv, err) < 0)
                        return -1;
                for (size_t k = 0; fenv && fenv[k]; k++)
                        strv_env_set(&env, fenv[k]);
        }
        for (size_t k = 0; o->env && o->env[k]; k++) {
                if (strchr(o->env[k], '=')) {
                        strv_env_set(&env, o->env[k]);
                        continue;
                }
                const char *val = getenv(o->env[k]); /* -e VAR: from our environment */
                if (val) {
                        cleanup_free char *kv = xasprintf("%s=%s", o->env[k], val);
                        strv_env_set(&env, kv);
                }
        }
        *out = steal_pointer(&env);
        return 0;
}

/* --security-opt: no-new-privileges, seccomp=unconfined|FILE (checked now). */
static int parse_security_opts(const struct container_spec *o, bool *nnp, json_t **seccomp, berth_error_t *err)
{
        *nnp = false;
        *seccomp = json_null();
        for (size_t k = 0; o->security_opts && o->security_opts[k]; k++) {
                const char *so = o->security_opts[k];
                if (streq(so, "no-new-privileges") || streq(so, "no-new-privileges:true") ||
                    streq(so, "no-new-privileges=true")) {
                        *nnp = true;
                } else if (streq(so, "no-new-privileges:false") || streq(so, "no-new-privileges=false")) {
                        *nnp = false;
                } else if (startswith(so, "seccomp=") || startswith(so, "seccomp:")) {
                        const char *v = so + 8;
                        json_decref(*seccomp);
                        *seccomp = json_null();
                        if (streq(v, "unconfined")) {
                                *seccomp = json_string("unconfined");
                                continue;
                        }
                        cleanup_free char *text = NULL;
                        scmp_filter_ctx ctx = NULL;
                        if (read_file(v, &text, NULL, err) < 0 ||
                            seccomp_build(text, caps_default_mask(), &ctx, err) < 0)
                                return berth_error_wrap(err, "--security-opt %s", so);
                        if (ctx)
                                seccomp_release(ctx);
                        *seccomp = json_string(text);
                } else if (!startswith(so, "apparmor") && !startswith(so, "label")) {
                        /* apparmor/label: accepted, as on hosts without AppArmor/SELinux */
                        return berth_error(err, 0, "Invalid --security-opt: \"%s\"", so);
                }
        }
        return 0;
}

/* Docker's HostConfig.Ulimits: [{"Name": "nofile", "Soft": 1024, "Hard": 2048}] */
static json_t *ulimits_json(char *const *ulimits)
{
        json_t *a = json_array();
        for (size_t i = 0; ulimits && ulimits[i]; i++) {
                const char *prop;
                uint64_t soft, hard;
                if (parse_ulimit(ulimits[i], &prop, &soft, &hard, NULL) < 0)
                        continue; /* validated when parsed */
                cleanup_free char *name = xstrndup(ulimits[i], strchr(ulimits[i], '=') - ulimits[i]);
                json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name", name,
                                                   "Soft", soft == UINT64_MAX ? (json_int_t) -1 : (json_int_t) soft,
                                                   "Hard", hard == UINT64_MAX ? (json_int_t) -1 : (json_int_t) hard));
        }
        return a;
}

static json_t *json_array_or_empty(json_t *v)
{
        return json_is_array(v) ? json_deep_copy(v) : json_array();
}

/* Config.Healthcheck as Docker merges it: the image's HEALTHCHECK, each
 * field the run options give replacing the image's; --no-healthcheck is
 * {"Test": ["NONE"]}.  NULL: no health check at all. */
static json_t *health_config(json_t *icfg, const struct container_spec *o)
{
        if (o->no_healthcheck)
                return json_pack("{s:[s]}", "Test", "NONE");
        json_t *image_hc = json_object_get(icfg, "Healthcheck");
        json_t *hc = json_is_object(image_hc) ? json_deep_copy(image_hc) : json_object();
        if (o->health)
                json_object_update(hc, o->health);
        if (!json_object_size(hc)) {
                json_decref(hc);
                return NULL;
        }
        return hc;
}

static bool health_enabled(json_t *hc)
{
        const char *kind = json_string_value(json_array_get(json_object_get(hc, "Test"), 0));
        return kind && !streq(kind, "NONE");
}

/* Build config.json for a new container from the image and the options. */
static int build_config(struct berth_store *store, struct berth_image *img, const struct container_spec *o,
                        struct volume_holds *holds, json_t **out, berth_error_t *err)
{
        const char *image_ref = o->image;
        char *const *cmd = o->command;
        json_t *icfg = json_object_get(img->config, "config");
        cleanup_strv char **env = NULL;
        if (build_env(icfg, o, &env, err) < 0)
                return -1;

        /* ENTRYPOINT + CMD as Docker combines them: --entrypoint resets CMD,
         * arguments after the image replace CMD. */
        json_auto_t *entry = o->entrypoint ? (o->entrypoint[0] ? json_pack("[s]", o->entrypoint) : json_array())
                                                   : json_array_or_empty(json_object_get(icfg, "Entrypoint"));
        json_auto_t *cmdj = cmd && cmd[0] ? strv_to_json(cmd)
                                  : o->entrypoint ? json_array()
                                                  : json_array_or_empty(json_object_get(icfg, "Cmd"));
        json_auto_t *full = json_deep_copy(entry);
        json_array_extend(full, cmdj);
        if (json_array_size(full) == 0)
                return berth_error(err, 0, "no command specified: the image has no CMD or ENTRYPOINT, give one after "
                                           "the image name");

        json_auto_t *labels = json_is_object(json_object_get(icfg, "Labels"))
                                              ? json_deep_copy(json_object_get(icfg, "Labels"))
                                              : json_object();
        for (size_t k = 0; o->labels && o->labels[k]; k++) {
                cleanup_free char *kv = xstrdup(o->labels[k]);
                char *eq = strchr(kv, '=');
                if (eq)
                        *eq = '\0';
                json_object_set_new(labels, kv, json_string(eq ? eq + 1 : ""));
        }

        bool nnp;
        json_auto_t *seccomp = NULL;
        if (parse_security_opts(o, &nnp, &seccomp, err) < 0)
                return -1;
        uint64_t caps_mask; /* checked now so a bad name creates nothing */
        if (caps_compute(o->cap_add, o->cap_drop, o->privileged, &caps_mask, err) < 0)
                return -1;

        const char *workdir = o->workdir ? o->workdir : json_string_value(json_object_get(icfg, "WorkingDir"));
        const char *user = o->user ? o->user : json_string_value(json_object_get(icfg, "User"));
        const char *stopsig = o->stop_signal ? o->stop_signal : json_string_value(json_object_get(icfg, "StopSignal"));
        json_auto_t *health = health_config(icfg, o);
        if (o->notify_healthy && !health_enabled(health))
                return berth_error(err, 0, "--sdnotify=healthy: the container has no health check (no HEALTHCHECK "
                                           "in the image, no --health-cmd)");
        if (o->health_on_failure && !streq(o->health_on_failure, "none") && !health_enabled(health))
                return berth_error(err, 0, "--health-on-failure=%s: the container has no health check",
                                   o->health_on_failure);
        cleanup_free char *restart_name = NULL;
        unsigned retries = 0;
        if (parse_restart_policy(o->restart ? o->restart : "no", &restart_name, &retries, err) < 0)
                return -1;
        /* last of the checks: it creates volumes (--mount type=tmpfs adds to tmpfs) */
        json_auto_t *mounts = json_array(), *binds = json_array();
        cleanup_strv char **tmpfs = strv_copy(o->tmpfs);
        if (build_mounts(store, o, img, mounts, binds, &tmpfs, holds, err) < 0)
                return -1;
        cleanup_free char *lowerdir = image_lowerdir(img);
        /* the record owns copies: the spec stays the caller's */
        json_auto_t *devices = o->devices ? json_deep_copy(o->devices) : json_array();
        json_auto_t *limits = o->limits ? json_deep_copy(o->limits) : json_object();
        json_auto_t *args = json_deep_copy(full);
        json_array_remove(args, 0);

        /* "O" takes a new reference: the cleanup variables keep theirs */
        json_t *cfg = json_pack(
                "{s:s, s:O, s:O, "
                "s:{s:s, s:s, s:o, s:O, s:O, s:s, s:O, s:b, s:b, s:b, s:s, s:I, s:s}, "
                "s:{s:O, s:s, s:b, s:b, s:b, s:o, s:o, s:o, s:b, s:{s:s, s:i}, s:o, s:O, s:o}, "
                "s:{s:O, s:s, s:O, s:O, s:b, s:O, s:o, s:s}}",
                "Image", img->id, "Path", json_array_get(full, 0), "Args", args,
                "Config", "Hostname", o->hostname ? o->hostname : "", "User", user ? user : "", "Env",
                strv_to_json(env), "Cmd", cmdj, "Entrypoint", json_array_size(entry) ? entry : json_null(),
                "WorkingDir", workdir ? workdir : "", "Labels", labels, "Tty", o->tty, "OpenStdin", o->interactive,
                "AttachStdout", !o->detach, "StopSignal", stopsig ? stopsig : "SIGTERM", "StopTimeout",
                (json_int_t) (o->stop_timeout >= 0 ? o->stop_timeout : 10), "Image", image_ref,
                "HostConfig", "Binds", binds, "NetworkMode", o->network ? o->network : "bridge", "AutoRemove", o->rm,
                "Privileged", o->privileged, "ReadonlyRootfs", o->read_only, "CapAdd", strv_to_json(o->cap_add),
                "CapDrop", strv_to_json(o->cap_drop), "SecurityOpt", strv_to_json(o->security_opts), "Init", o->init,
                "RestartPolicy", "Name", restart_name, "MaximumRetryCount", (int) retries, "Ulimits",
                ulimits_json(o->ulimits), "Devices", devices, "DeviceCgroupRules", strv_to_json(o->device_rules),
                "Berth", "Command", full, "ImageName", image_ref, "Limits", limits, "Mounts", mounts,
                "NoNewPrivileges", nnp, "SeccompProfile", seccomp, "Tmpfs", strv_to_json(tmpfs), "LowerDir",
                lowerdir);
        if (!cfg)
                return berth_error(err, 0, "internal error: cannot build the container configuration");
        if (health)
                json_object_set(json_object_get(cfg, "Config"), "Healthcheck", health);
        json_t *berth = json_object_get(cfg, "Berth");
        if (o->health_on_failure && !streq(o->health_on_failure, "none"))
                json_object_set_new(berth, "HealthOnFailure", json_string(o->health_on_failure));
        if (o->notify_healthy)
                json_object_set_new(berth, "NotifyHealthy", json_true());
        if (o->notify)
                json_object_set_new(berth, "Notify", json_true());
        *out = cfg;
        return 0;
}

int container_ensure_image(struct berth_store *s, const char *image, const char *policy,
                           const struct container_progress *progress, struct berth_image **out, berth_error_t *err)
{
        FILE *out_stream = progress ? progress->out : NULL;
        policy = policy ? policy : "missing";
        bool always = streq(policy, "always") || streq(policy, "newer");
        if (!always && !streq(policy, "missing") && !streq(policy, "never"))
                return berth_error(err, 0, "invalid pull policy: '%s' (use missing, always, never or newer)", policy);
        berth_error_t e = NULL;
        if (!always && image_lookup(s, image, out, &e) == 0)
                return 0;
        berth_error_free(&e);
        if (streq(policy, "never"))
                return berth_error(err, 0, "Unable to find image '%s' locally and the pull policy is never", image);
        struct image_ref ref;
        if (image_ref_parse(image, &ref, &e) < 0) {
                /* an ID (prefix) that is not in the store: nothing to pull */
                berth_error_free(&e);
                return berth_error(err, 0, "Unable to find image '%s' locally", image);
        }
        image_ref_free(&ref);
        if (!always && out_stream)
                fprintf(out_stream, "Unable to find image '%s' locally\n", image);
        struct registry_pull_opts po = { .progress = out_stream };
        if (progress) {
                po.tick = progress->tick;
                po.userdata = progress->userdata;
        }
        cleanup_free char *id = NULL;
        if (registry_pull(s, image, &po, &id, err) < 0) {
                /* `newer`: a registry that cannot be asked leaves the local image in use */
                if (streq(policy, "newer") && image_lookup(s, image, out, &e) == 0) {
                        berth_warn("%s; using the local image %s", (*err)->msg, image);
                        berth_error_free(err);
                        return 0;
                }
                berth_error_free(&e);
                return -1;
        }
        return image_lookup(s, id, out, err);
}

/* The user namespace asked for: explicit ranges in uids and gids (n > 0), or
 * an auto range of *auto_size from *auto_name's subordinate ids, or none.
 * *mode is HostConfig.UsernsMode. */
struct userns_plan {
        struct idmap uids, gids;
        char *auto_name; /* NULL: no allocation */
        uint32_t auto_size;
        const char *mode;
        bool nested;       /* a user's keep-id or nomap: mapped on berth's own */
        char user[32];     /* keep-id's default user, "UID:GID" */
};

/* A user's --userns=keep-id or nomap: a namespace nested in berth's own
 * (the ids of rootless_maps()).  A user may not idmap the image's layers
 * (their file system is the host's), so the container gets a copy of the
 * image with its ids shifted (mapped_lower()), as Podman's mapped layers. */
static int userns_plan_nested(const struct idmap_userns *u, struct userns_plan *p, berth_error_t *err)
{
        struct idmap own[2];
        if (rootless_maps(&own[0], &own[1], err) < 0)
                return -1;
        uint32_t inner[2] = { u->has_uid ? u->uid : rootless_uid(), u->has_gid ? u->gid : rootless_gid() };
        struct idmap *out[2] = { &p->uids, &p->gids };
        for (int k = 0; k < 2; k++)
                if (idmap_nested(u->kind, &own[k], inner[k], out[k], err) < 0)
                        return -1;
        p->nested = true;
        if (u->kind == USERNS_KEEP_ID)
                snprintf(p->user, sizeof(p->user), "%" PRIu32 ":%" PRIu32, inner[0], inner[1]);
        return 0;
}

static int subid_map(const char *path, const char *name, struct idmap *m, berth_error_t *err)
{
        struct idmap_range r[IDMAP_MAX];
        size_t n;
        uint32_t next = 0;
        if (idmap_subid_read(path, name, (uid_t) -1, r, IDMAP_MAX, &n, err) < 0)
                return -1;
        if (n == 0)
                return berth_error(err, 0, "no entries for %s in %s", name, path);
        for (size_t i = 0; i < n; i++) {
                r[i].container = next;
                if ((uint64_t) next + r[i].size > UINT32_MAX)
                        return berth_error(err, 0, "%s: the ranges of %s are too large", path, name);
                next += r[i].size;
                if (idmap_add(m, &r[i], path, err) < 0)
                        return -1;
        }
        return 0;
}

static int userns_plan_make(const struct container_spec *o, struct userns_plan *p, berth_error_t *err)
{
        *p = (struct userns_plan) { .mode = "" };
        struct idmap_userns u;
        if (idmap_userns_parse(o->userns, &u, err) < 0)
                return -1;
        p->auto_size = u.size; /* also for the userns-remap default */
        if (rootless()) {
                /* a user's containers are in berth's own namespace of the
                 * user's subordinate ids (rootless-ns.h), as Podman's default */
                if (u.kind == USERNS_AUTO || o->uidmaps || o->gidmaps || o->subuidname || o->subgidname)
                        return berth_error(err, 0, "--userns=auto, --uidmap, --gidmap and --subuidname are for "
                                                   "root's containers: a user's containers map the user's "
                                                   "subordinate ids (--userns=keep-id or nomap change how)");
                if (u.kind == USERNS_KEEP_ID || u.kind == USERNS_NOMAP) {
                        p->mode = o->userns;
                        if (userns_plan_nested(&u, p, err) < 0)
                                return -1;
                        if (o->user && *o->user)
                                p->user[0] = '\0';
                }
                return 0;
        }
        if (u.kind == USERNS_KEEP_ID || u.kind == USERNS_NOMAP)
                return berth_error(err, 0, "--userns=%s maps the calling user and is for a user's berth only; "
                                           "root's containers use --userns=auto or --uidmap", o->userns);
        for (size_t i = 0; o->uidmaps && o->uidmaps[i]; i++) {
                struct idmap_range r;
                if (idmap_range_parse(o->uidmaps[i], &r, err) < 0 || idmap_add(&p->uids, &r, "--uidmap", err) < 0)
                        return -1;
        }
        for (size_t i = 0; o->gidmaps && o->gidmaps[i]; i++) {
                struct idmap_range r;
                if (idmap_range_parse(o->gidmaps[i], &r, err) < 0 || idmap_add(&p->gids, &r, "--gidmap", err) < 0)
                        return -1;
        }
        /* as Podman: one of the two given, the other is the same */
        if (p->uids.n && !p->gids.n)
                p->gids = p->uids;
        else if (p->gids.n && !p->uids.n)
                p->uids = p->gids;
        if (o->subuidname || o->subgidname) {
                const char *un = o->subuidname ? o->subuidname : o->subgidname;
                const char *gn = o->subgidname ? o->subgidname : o->subuidname;
                if (subid_map(IDMAP_SUBUID_PATH, un, &p->uids, err) < 0 ||
                    subid_map(IDMAP_SUBGID_PATH, gn, &p->gids, err) < 0)
                        return -1;
        }
        if (p->uids.n) {
                uint32_t h;
                if (!idmap_to_host(&p->uids, 0, &h) || !idmap_to_host(&p->gids, 0, &h))
                        return berth_error(err, 0, "the id mappings do not map the container's root (id 0)");
                p->mode = "private";
                return 0;
        }
        if (u.kind == USERNS_AUTO) {
                p->auto_name = xstrdup(IDMAP_SUBID_NAME);
                p->mode = o->userns;
                return 0;
        }
        if (o->userns && *o->userns) {
                p->mode = o->userns; /* host */
                return 0;
        }
        /* no --userns: the engine's userns-remap, as Docker's daemon option */
        if (idmap_remap_config(IDMAP_CONFIG_PATH, &p->auto_name, err) < 0)
                return -1;
        return 0;
}

/* Under the exclusive store lock: the auto range chosen, the mapping in the
 * record (HostConfig.UsernsMode, HostConfig.IDMappings as Podman's). */
static int userns_plan_apply(struct berth_store *s, struct userns_plan *p, json_t *cfg, berth_error_t *err)
{
        json_t *hc = json_object_get(cfg, "HostConfig");
        json_object_set_new(hc, "UsernsMode", json_string(p->mode));
        if (p->auto_name) {
                if (idmap_allocate_auto(s, p->auto_name, p->auto_size, &p->uids, &p->gids, err) < 0)
                        return berth_error_wrap(err, "user namespace");
                json_object_set_new(json_object_get(cfg, "Berth"), "UsernsAuto", json_string(p->auto_name));
        }
        if (!p->uids.n)
                return 0;
        if (p->user[0]) /* keep-id without --user: the user, as Podman's */
                json_object_set_new(json_object_get(cfg, "Config"), "User", json_string(p->user));
        json_object_set_new(hc, "IDMappings", json_pack("{s:o, s:o}", "UidMap", idmap_to_json(&p->uids), "GidMap",
                                                        idmap_to_json(&p->gids)));
        return 0;
}

/* Outside the store lock (a large image takes a while): the image copied
 * with its ids shifted, once per image and mapping (ROOT/mapped/IMAGE-MAP,
 * Podman's mapped layers; rmi removes them), which becomes the container's
 * lower dir (Berth.LowerDir).  A copy is made under tmp/ and renamed into
 * place whole; of two made at once, the second is thrown away. */
static int mapped_lower(struct berth_store *s, struct berth_container *c, const struct userns_plan *p,
                        berth_error_t *err)
{
        const char *image = json_str(c->config, "Image");
        if (!image || !startswith(image, "sha256:"))
                return berth_error(err, 0, "container %s has no image id recorded", c->name);
        cleanup_free char *ut = idmap_proc_text(&p->uids), *gt = idmap_proc_text(&p->gids);
        cleanup_free char *maps = xasprintf("%s|%s", ut, gt);
        cleanup_free char *hash = sha256_hex_of(maps, strlen(maps));
        if (!hash)
                return berth_error(err, 0, "hash the id mapping (libcrypto)");
        cleanup_free char *top = store_path(s, "mapped");
        cleanup_free char *dir = store_path(s, "mapped/%s-%.16s", image + 7, hash);
        if (access(dir, F_OK) < 0) {
                cleanup_free char *tmp = NULL;
                cleanup_close int tmpfd = -1;
                if (mkdir_p(top, 0700, err) < 0 || store_tmp_create(s, "mapped", true, &tmp, &tmpfd, err) < 0)
                        return -1;
                int r = volume_copy_image_mapped(s, json_str(c->config, "Berth.LowerDir"), tmp, &p->uids, &p->gids,
                                                 err);
                if (r == 0 && rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY)
                        r = berth_error(err, errno, "rename `%s` to `%s`", tmp, dir);
                (void) rm_rf(tmp, NULL); /* what is left: a failed copy, or the second of two */
                if (r < 0)
                        return -1;
        }
        json_object_set_new(json_object_get(c->config, "Berth"), "LowerDir", json_string(dir));
        return container_save_config(c, err);
}

int container_create_from_spec(struct berth_store *s, const struct container_spec *spec,
                               const struct container_progress *progress, struct berth_container **out,
                               berth_error_t *err)
{
        if (!spec->image || !*spec->image)
                return berth_error(err, 0, "no image given for the container");
        /* --secret: an unknown one is refused before anything is pulled or made */
        json_auto_t *secrets = NULL;
        if (secret_prepare_mounts(s, spec->secrets, &secrets, err) < 0)
                return -1;
        struct userns_plan userns;
        if (userns_plan_make(spec, &userns, err) < 0) {
                free(userns.auto_name);
                return -1;
        }
        cleanup_free char *userns_name = userns.auto_name;
        cleanup_image struct berth_image *img = NULL;
        if (container_ensure_image(s, spec->image, spec->pull, progress, &img, err) < 0)
                return -1;
        json_t *cfg = NULL;
        struct volume_holds holds = {};
        if (build_config(s, img, spec, &holds, &cfg, err) < 0) {
                volume_holds_release(&holds);
                return -1;
        }
        if (spec->id)
                json_object_set_new(cfg, "Id", json_string(spec->id));
        json_t *berth = json_object_get(cfg, "Berth");
        if (json_array_size(secrets))
                json_object_set(berth, "Secrets", secrets);
        if (spec->unit)
                json_object_set_new(berth, "Unit", json_string(spec->unit));
        if (spec->network_aliases)
                json_object_set_new(berth, "NetworkAliases", strv_to_json(spec->network_aliases));
        if (spec->networks)
                json_object_set_new(berth, "Networks", strv_to_json(spec->networks));
        if (spec->definition) {
                json_object_set_new(berth, "Definition", json_string(spec->definition));
                json_object_set_new(berth, "Notify", json_boolean(spec->notify));
        }
        /* HostConfig.Memory, NanoCpus...: as inspect shows them after an
         * update (a definition's limits are its unit's, not the record's) */
        int r = spec->definition ? 0 : container_host_config_limits(cfg, err);
        /* --network, -p, -P: checked (a taken host port too) before anything is made */
        if (r >= 0)
                r = network_prepare_config(s, cfg, spec->publish, spec->publish_all, spec->expose,
                                           json_at(img->config, "config.ExposedPorts"), err);
        /* under the lock secret rm takes: the secrets are still there when
         * the record that uses them appears */
        cleanup_store_lock struct store_lock_scope lock = {};
        if (r >= 0)
                r = store_lock_scope_take(s, true, &lock, err);
        if (r >= 0)
                r = secret_check_config(s, cfg, err);
        if (r >= 0)
                r = userns_plan_apply(s, &userns, cfg, err);
        if (r >= 0)
                r = container_create(s, cfg, spec->name, out, err);
        store_lock_scope_release(&lock);
        volume_holds_release(&holds);
        if (r >= 0 && userns.nested && mapped_lower(s, *out, &userns, err) < 0) {
                berth_error_t e = NULL;
                if (container_remove(s, *out, &e) < 0)
                        berth_error_free(&e);
                container_free(*out);
                *out = NULL;
                r = -1;
        }
        if (r < 0)
                volume_remove_anonymous(s, cfg); /* the ones made for it */
        json_decref(cfg);
        return r;
}
