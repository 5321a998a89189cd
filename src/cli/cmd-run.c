/* berth run / create / start. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/devices.h"
#include "berth/image.h"
#include "berth/lifecycle.h"
#include "berth/limits.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/security.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

enum {
        OPT_RM = 1000, OPT_NAME, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_NETWORK, OPT_RESTART, OPT_CAP_ADD, OPT_CAP_DROP,
        OPT_PRIVILEGED, OPT_READ_ONLY, OPT_SECURITY_OPT, OPT_INIT, OPT_TMPFS, OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT,
        OPT_MOUNT, OPT_PULL, OPT_HOSTNAME, OPT_SIG_PROXY, OPT_ULIMIT, OPT_LABEL_FILE, OPT_CIDFILE, OPT_DEVICE, OPT_DEVICE_RULE,
        OPT_EXPOSE, OPT_LIMIT = 2000,
};

struct run_opts {
        bool detach, interactive, tty, rm, privileged, read_only, init, publish_all, sig_proxy;
        const char *name, *entrypoint, *network, *restart, *workdir, *user, *hostname, *stop_signal, *pull;
        char *cidfile; /* absolute */
        long long stop_timeout;
        char **env, **env_files, **volumes, **mounts, **publish, **expose, **labels, **cap_add, **cap_drop,
                **security_opts, **tmpfs, **ulimits, **device_rules;
        json_t *devices; /* HostConfig.Devices */
        json_t *limits; /* flag name -> value, re-parsed at each start */
        struct berth_store *store;
        struct volume_holds volume_holds; /* see build_mounts() */
};

static void run_opts_free(struct run_opts *o)
{
        strv_free(o->env);
        strv_free(o->env_files);
        strv_free(o->volumes);
        strv_free(o->mounts);
        strv_free(o->publish);
        strv_free(o->expose);
        strv_free(o->labels);
        strv_free(o->cap_add);
        strv_free(o->cap_drop);
        strv_free(o->security_opts);
        strv_free(o->tmpfs);
        strv_free(o->ulimits);
        free(o->cidfile);
        strv_free(o->device_rules);
        json_decref(o->devices);
        json_decref(o->limits);
        volume_holds_release(&o->volume_holds);
}

static const char run_usage[] =
        "Usage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Options:\n"
        "  -d, --detach              Run container in background and print container ID\n"
        "  -i, --interactive         Keep STDIN open\n"
        "  -t, --tty                 Allocate a pseudo-TTY\n"
        "      --rm                  Remove the container when it exits\n"
        "      --name string         Assign a name to the container\n"
        "  -e, --env list            Set environment variables\n"
        "      --env-file list       Read in a file of environment variables\n"
        "  -v, --volume list         Bind mount a host path or a volume ([HOST_PATH|NAME:]CONTAINER[:ro])\n"
        "      --mount mount         Attach a filesystem mount (type=bind|volume|tmpfs,source=,target=,readonly)\n"
        "      --tmpfs list          Mount a tmpfs directory\n"
        "  -w, --workdir string      Working directory inside the container\n"
        "  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])\n"
        "      --entrypoint string   Overwrite the default ENTRYPOINT of the image\n"
        "  -h, --hostname string     Container host name\n"
        "      --network string      Connect a container to a network (bridge, host, none, NAME, container:NAME)\n"
        "  -p, --publish list        Publish a container's port(s) to the host ([IP:]HOSTPORT:PORT[/udp], PORT)\n"
        "  -P, --publish-all         Publish all exposed ports to random ports\n"
        "      --expose list         Expose a port or a range of ports (PORT[-END][/udp]) without publishing it\n"
        "      --restart string      Restart policy (no, always, on-failure[:N], unless-stopped)\n"
        "  -l, --label list          Set meta data on a container\n"
        "      --label-file list     Read in a line delimited file of labels\n"
        "      --cidfile string      Write the container ID to the file\n"
        "      --cap-add list        Add Linux capabilities\n"
        "      --cap-drop list       Drop Linux capabilities\n"
        "      --privileged          Give extended privileges to this container\n"
        "      --device list         Add a host device to the container (HOST[:CONTAINER][:rwm])\n"
        "      --device-cgroup-rule list  Add a rule to the cgroup allowed devices list ('c 1:3 rwm')\n"
        "      --read-only           Mount the container's root filesystem as read only\n"
        "      --security-opt list   seccomp=unconfined|PROFILE.json, no-new-privileges\n"
        "      --init                Run an init inside the container that forwards signals and reaps processes\n"
        "      --stop-signal string  Signal to stop the container\n"
        "      --stop-timeout int    Timeout (in seconds) to stop a container\n"
        "      --ulimit ulimit       Ulimit options (NAME=SOFT[:HARD], as systemd's LimitNAME=)\n"
        "Resource limits (systemd unit properties):\n"
        "  -m, --memory, --memory-reservation, --memory-swap, --cpus, --cpu-shares,\n"
        "      --cpuset-cpus, --pids-limit, --blkio-weight, --device-read-bps, --device-write-bps\n";

static struct option *build_options(size_t *nlimits)
{
        static const struct option fixed[] = {
                { "detach", no_argument, NULL, 'd' },
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "rm", no_argument, NULL, OPT_RM },
                { "name", required_argument, NULL, OPT_NAME },
                { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, OPT_ENV_FILE },
                { "volume", required_argument, NULL, 'v' },
                { "mount", required_argument, NULL, OPT_MOUNT },
                { "tmpfs", required_argument, NULL, OPT_TMPFS },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
                { "hostname", required_argument, NULL, OPT_HOSTNAME },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "net", required_argument, NULL, OPT_NETWORK },
                { "publish", required_argument, NULL, 'p' },
                { "publish-all", no_argument, NULL, 'P' },
                { "expose", required_argument, NULL, OPT_EXPOSE },
                { "restart", required_argument, NULL, OPT_RESTART },
                { "label", required_argument, NULL, 'l' },
                { "label-file", required_argument, NULL, OPT_LABEL_FILE },
                { "cidfile", required_argument, NULL, OPT_CIDFILE },
                { "cap-add", required_argument, NULL, OPT_CAP_ADD },
                { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
                { "privileged", no_argument, NULL, OPT_PRIVILEGED },
                { "device", required_argument, NULL, OPT_DEVICE },
                { "device-cgroup-rule", required_argument, NULL, OPT_DEVICE_RULE },
                { "read-only", no_argument, NULL, OPT_READ_ONLY },
                { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
                { "init", no_argument, NULL, OPT_INIT },
                { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
                { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
                { "pull", required_argument, NULL, OPT_PULL },
                { "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
                { "ulimit", required_argument, NULL, OPT_ULIMIT },
                { "help", no_argument, NULL, 'H' },
        };
        size_t n = limit_defs_count;
        const struct limit_def *defs = limit_defs;
        struct option *o = xcalloc(ARRAY_SIZE(fixed) + n + 1, sizeof(*o));
        memcpy(o, fixed, sizeof(fixed));
        size_t k = ARRAY_SIZE(fixed);
        for (size_t i = 0; i < n; i++) {
                if (streq(defs[i].flag, "restart"))
                        continue; /* handled above: it also shapes the restart policy in inspect */
                o[k++] = (struct option) { defs[i].flag, required_argument, NULL, OPT_LIMIT + (int) i };
        }
        *nlimits = n;
        return o;
}

static void strv_push_absolute(char ***v, const char *path)
{
        cleanup_free char *abs = path_absolute(NULL, path);
        strv_push(v, abs);
}

static int parse_run_opts(const char *cmd, int argc, char **argv, struct run_opts *o, berth_error_t *err)
{
        size_t nlimits;
        cleanup_free struct option *opts = build_options(&nlimits);
        const struct limit_def *defs = limit_defs;
        o->limits = json_object();
        o->devices = json_array();
        o->stop_timeout = -1;
        o->sig_proxy = true;
        cleanup_strv char **label_files = NULL;
        int c;
        /* Every path is made absolute here, relative to the working
         * directory, before anything changes directory or namespace.
         * "+": options end at the image name, the rest is the command */
        while ((c = getopt_long(argc, argv, "+ditm:e:v:w:u:h:p:Pl:", opts, NULL)) != -1) {
                switch (c) {
                case 'd': o->detach = true; break;
                case 'i': o->interactive = true; break;
                case 't': o->tty = true; break;
                case OPT_RM: o->rm = true; break;
                case OPT_NAME: o->name = optarg; break;
                case 'e': strv_push(&o->env, optarg); break;
                case OPT_ENV_FILE: strv_push_absolute(&o->env_files, optarg); break;
                case OPT_LABEL_FILE: strv_push_absolute(&label_files, optarg); break;
                case OPT_CIDFILE:
                        free(o->cidfile);
                        o->cidfile = path_absolute(NULL, optarg);
                        break;
                case 'v': {
                        cleanup_free char *v = mount_spec_volume_absolute(optarg, NULL);
                        strv_push(&o->volumes, v);
                        break;
                }
                case OPT_MOUNT: {
                        cleanup_free char *v = mount_spec_mount_absolute(optarg, NULL);
                        strv_push(&o->mounts, v);
                        break;
                }
                case OPT_TMPFS:
                        if (optarg[0] != '/')
                                return berth_error(err, 0, "invalid --tmpfs %s: the path must be absolute", optarg);
                        strv_push(&o->tmpfs, optarg);
                        break;
                case 'w': o->workdir = optarg; break;
                case 'u': o->user = optarg; break;
                case OPT_ENTRYPOINT: o->entrypoint = optarg; break;
                case 'h':
                case OPT_HOSTNAME: o->hostname = optarg; break;
                case OPT_NETWORK: o->network = optarg; break;
                case 'p': strv_push(&o->publish, optarg); break;
                case 'P': o->publish_all = true; break;
                case OPT_EXPOSE: strv_push(&o->expose, optarg); break;
                case OPT_RESTART: o->restart = optarg; break;
                case 'l': strv_push(&o->labels, optarg); break;
                case OPT_CAP_ADD: strv_push(&o->cap_add, optarg); break;
                case OPT_CAP_DROP: strv_push(&o->cap_drop, optarg); break;
                case OPT_PRIVILEGED: o->privileged = true; break;
                case OPT_DEVICE: {
                        struct device_map d;
                        if (device_map_parse(optarg, &d, err) < 0)
                                return -1;
                        if (device_map_check(&d, err) < 0) {
                                device_map_clear(&d);
                                return -1;
                        }
                        json_array_append_new(o->devices, device_map_to_json(&d));
                        device_map_clear(&d);
                        break;
                }
                case OPT_DEVICE_RULE:
                        if (device_cgroup_rule_check(optarg, err) < 0)
                                return -1;
                        strv_push(&o->device_rules, optarg);
                        break;
                case OPT_READ_ONLY: o->read_only = true; break;
                case OPT_SECURITY_OPT: {
                        /* seccomp=PROFILE: the file relative to the working directory */
                        bool profile = (startswith(optarg, "seccomp=") || startswith(optarg, "seccomp:")) &&
                                       !streq(optarg + 8, "unconfined");
                        cleanup_free char *path = profile ? path_absolute(NULL, optarg + 8) : NULL;
                        cleanup_free char *so = profile ? xasprintf("%.8s%s", optarg, path) : xstrdup(optarg);
                        strv_push(&o->security_opts, so);
                        break;
                }
                case OPT_INIT: o->init = true; break;
                case OPT_STOP_SIGNAL: o->stop_signal = optarg; break;
                case OPT_PULL: o->pull = optarg; break;
                case OPT_SIG_PROXY:
                        if (!parse_bool_flag(optarg, &o->sig_proxy))
                                return cli_usage_error(err, cmd, "invalid value `%s` for --sig-proxy", optarg);
                        break;
                case OPT_ULIMIT: {
                        const char *prop;
                        uint64_t soft, hard;
                        if (parse_ulimit(optarg, &prop, &soft, &hard, err) < 0)
                                return -1;
                        strv_push(&o->ulimits, optarg);
                        break;
                }
                case OPT_STOP_TIMEOUT: {
                        long long ns;
                        if (parse_duration(optarg, &ns, err) < 0)
                                return -1;
                        o->stop_timeout = ns / 1000000000LL;
                        break;
                }
                case 'm':
                        json_object_set_new(o->limits, "memory", json_string(optarg));
                        break;
                case 'H':
                        printf(run_usage, cmd);
                        return 1;
                default:
                        if (c >= OPT_LIMIT && c < OPT_LIMIT + (int) nlimits) {
                                json_object_set_new(o->limits, defs[c - OPT_LIMIT].flag, json_string(optarg));
                                break;
                        }
                        return cli_usage_error(err, cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, cmd, "requires at least 1 argument");
        /* Docker: the files' labels first, --label wins over them */
        if (label_files) {
                cleanup_strv char **labels = NULL;
                for (size_t f = 0; label_files[f]; f++) {
                        cleanup_strv char **fl = NULL;
                        if (parse_label_file(label_files[f], &fl, err) < 0)
                                return -1;
                        for (size_t k = 0; fl[k]; k++)
                                strv_push(&labels, fl[k]);
                }
                for (size_t k = 0; o->labels && o->labels[k]; k++)
                        strv_push(&labels, o->labels[k]);
                strv_free(o->labels);
                o->labels = steal_pointer(&labels);
        }
        if (o->restart)
                json_object_set_new(o->limits, "restart", json_string(o->restart));
        /* Validate every limit now, so a bad value changes nothing. */
        struct limits l = {};
        struct unit_props props = {};
        const char *key;
        json_t *v;
        int r = 0;
        json_object_foreach(o->limits, key, v)
        {
                const struct limit_def *def = limit_by_flag(key);
                if (def && (r = limits_set(&l, def, json_string_value(v), err)) < 0)
                        break;
        }
        if (r >= 0)
                r = limits_to_props(&l, &props, err);
        limits_free(&l);
        unit_props_free(&props);
        if (r < 0)
                return r;
        if (o->rm && o->restart && !streq(o->restart, "no"))
                return berth_error(err, 0, "Conflicting options: --restart and --rm");
        return 0;
}

static json_t *strv_to_json(char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

/* -v and --mount into config.json's Berth.Mounts / Binds (volume.c makes
 * named and anonymous volumes, also for the image's VOLUME paths, and holds
 * their locks in o->volume_holds until the container is recorded). */
static int build_mounts(struct run_opts *o, struct berth_image *img, json_t *mounts, json_t *binds,
                        berth_error_t *err)
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
                r = volume_prepare_mounts(o->store, specs, nv + nm, json_is_object(ivols) ? ivols : NULL, lowerdir,
                                          mounts, &o->tmpfs, &o->volume_holds, err);
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
static int build_env(json_t *icfg, struct run_opts *o, char ***out, berth_error_t *err)
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
static int parse_security_opts(struct run_opts *o, bool *nnp, json_t **seccomp, berth_error_t *err)
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

/* Build config.json for a new container from the image and the options. */
static int build_config(struct berth_image *img, const char *image_ref, struct run_opts *o, char **cmd,
                        json_t **out, berth_error_t *err)
{
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
        cleanup_free char *restart_name = NULL;
        unsigned retries = 0;
        if (parse_restart_policy(o->restart ? o->restart : "no", &restart_name, &retries, err) < 0)
                return -1;
        /* last of the checks: it creates volumes */
        json_auto_t *mounts = json_array(), *binds = json_array();
        if (build_mounts(o, img, mounts, binds, err) < 0)
                return -1;
        cleanup_free char *lowerdir = image_lowerdir(img);
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
                ulimits_json(o->ulimits), "Devices", o->devices, "DeviceCgroupRules", strv_to_json(o->device_rules),
                "Berth", "Command", full, "ImageName", image_ref, "Limits", o->limits, "Mounts", mounts,
                "NoNewPrivileges", nnp, "SeccompProfile", seccomp, "Tmpfs", strv_to_json(o->tmpfs), "LowerDir",
                lowerdir);
        if (!cfg)
                return berth_error(err, 0, "internal error: cannot build the container configuration");
        *out = cfg;
        return 0;
}

int run_ensure_image(struct berth_cli *cli, const char *image, const char *policy, FILE *progress,
                     registry_tick_fn tick, void *userdata, struct berth_image **out, berth_error_t *err)
{
        policy = policy ? policy : "missing";
        bool always = streq(policy, "always") || streq(policy, "newer");
        if (!always && !streq(policy, "missing") && !streq(policy, "never"))
                return berth_error(err, 0, "invalid pull policy: '%s' (use missing, always, never or newer)", policy);
        berth_error_t e = NULL;
        if (!always && image_lookup(&cli->store, image, out, &e) == 0)
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
        if (!always && progress)
                fprintf(progress, "Unable to find image '%s' locally\n", image);
        struct registry_pull_opts po = { .progress = progress, .tick = tick, .userdata = userdata };
        cleanup_free char *id = NULL;
        if (registry_pull(&cli->store, image, &po, &id, err) < 0) {
                /* `newer`: a registry that cannot be asked leaves the local image in use */
                if (streq(policy, "newer") && image_lookup(&cli->store, image, out, &e) == 0) {
                        if (progress)
                                fprintf(progress, "WARNING: %s; using the local image %s\n", (*err)->msg, image);
                        berth_error_free(err);
                        return 0;
                }
                berth_error_free(&e);
                return -1;
        }
        return image_lookup(&cli->store, id, out, err);
}

/* The container from parsed options: the image (pulled if missing), its
 * configuration, its network and volumes, its record. */
static int create_from_opts(struct berth_cli *cli, const char *image, char **cmd, struct run_opts *o,
                            const char *id, json_t *extra, struct berth_container **out, berth_error_t *err)
{
        cleanup_image struct berth_image *img = NULL;
        if (run_ensure_image(cli, image, o->pull, stderr, NULL, NULL, &img, err) < 0)
                return -1;
        json_t *cfg = NULL;
        o->store = &cli->store;
        if (build_config(img, image, o, cmd, &cfg, err) < 0)
                return -1;
        if (id)
                json_object_set_new(cfg, "Id", json_string(id));
        if (extra)
                json_object_update_recursive(json_object_get(cfg, "Berth"), extra);
        /* --network, -p, -P: checked (a taken host port too) before anything is made */
        int r = network_prepare_config(&cli->store, cfg, o->publish, o->publish_all, o->expose,
                                       json_at(img->config, "config.ExposedPorts"), err);
        if (r >= 0)
                r = container_create(&cli->store, cfg, o->name, out, err);
        volume_holds_release(&o->volume_holds);
        if (r < 0)
                volume_remove_anonymous(&cli->store, cfg); /* the ones made for it */
        json_decref(cfg);
        return r;
}

static int create_container(struct berth_cli *cli, const char *cmd, int argc, char **argv, struct run_opts *o,
                            const char *id, json_t *extra, struct berth_container **out, berth_error_t *err)
{
        int r = parse_run_opts(cmd, argc, argv, o, err);
        if (r != 0)
                return r;
        /* --cidfile: taken before anything is made, removed if nothing is, as Docker's */
        cleanup_close int cidfd = -1;
        if (o->cidfile) {
                cidfd = open(o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (cidfd < 0 && errno == EEXIST)
                        return berth_error(err, 0, "container ID file found, make sure the other container isn't "
                                                   "running or delete %s", o->cidfile);
                if (cidfd < 0)
                        return berth_error(err, errno, "failed to create the container ID file %s", o->cidfile);
        }
        r = create_from_opts(cli, argv[optind], argv + optind + 1, o, id, extra, out, err);
        if (cidfd >= 0) {
                if (r < 0)
                        (void) unlink(o->cidfile);
                else if (write_all(cidfd, (*out)->id, strlen((*out)->id)) < 0)
                        fprintf(stderr, "berth: WARNING: cannot write the container ID to %s: %m\n", o->cidfile);
        }
        return r;
}

int cmd_create(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct run_opts o = {};
        cleanup_container struct berth_container *c = NULL;
        int r = create_container(cli, "create", argc, argv, &o, NULL, NULL, &c, err);
        run_opts_free(&o);
        if (r != 0)
                return r < 0 ? r : 0;
        printf("%s\n", c->id);
        return 0;
}

int cmd_run(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct run_opts o = {};
        cleanup_container struct berth_container *c = NULL;
        int r = create_container(cli, "run", argc, argv, &o, NULL, NULL, &c, err);
        if (r != 0) {
                run_opts_free(&o);
                return r < 0 ? r : 0;
        }
        cleanup_bus sd_bus *bus = NULL;
        struct start_io io = { .attach = !o.detach, .stdin_ = o.interactive, .tty = o.tty, .sig_proxy = o.sig_proxy };
        bool rm = o.rm;
        run_opts_free(&o);
        if (unit_bus_open(&bus, err) < 0)
                goto fail;
        r = container_start(&cli->store, bus, cli->self, c, &io, err);
        if (r < 0)
                goto fail;
        if (!io.attach)
                printf("%s\n", c->id);
        return r;
fail:
        /* A container that never ran and asked for --rm leaves nothing behind. */
        if (rm) {
                berth_error_t e = NULL;
                container_remove(&cli->store, c, &e);
                berth_error_free(&e);
                volume_remove_anonymous(&cli->store, c->config);
        }
        return -1;
}

int cmd_start(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool attach = false, interactive = false;
        int ch;
        while ((ch = getopt_long(argc, argv, "ai", opts, NULL)) != -1) {
                switch (ch) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                case 'h':
                        puts("Usage:  berth start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
                             "  -a, --attach        Attach STDOUT/STDERR and forward signals\n"
                             "  -i, --interactive   Attach container's STDIN");
                        return 0;
                default: return cli_usage_error(err, "start", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "start", "requires at least 1 argument");
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                cleanup_container struct berth_container *c = NULL;
                berth_error_t e = NULL;
                int r = container_lookup(&cli->store, argv[i], &c, &e);
                if (r >= 0) {
                        struct start_io io = { .attach = attach, .stdin_ = interactive,
                                               .tty = attach && json_bool(c->config, "Config.Tty"), .sig_proxy = true };
                        r = container_start(&cli->store, bus, cli->self, c, &io, &e);
                        if (r >= 0 && !attach)
                                printf("%s\n", argv[i]);
                        if (r > 0)
                                ret = r;
                }
                if (r < 0) {
                        if (argc - optind == 1) {
                                *err = e;
                                return -1;
                        }
                        fprintf(stderr, "berth: %s\n", e->msg);
                        berth_error_free(&e);
                        ret = 1;
                }
        }
        return ret;
}

int run_create_container(struct berth_cli *cli, int argc, char **argv, const char *id, json_t *berth_extra,
                         struct berth_container **out, berth_error_t *err)
{
        struct run_opts o = {};
        optind = 0;
        int r = create_container(cli, "run", argc, argv, &o, id, berth_extra, out, err);
        run_opts_free(&o);
        return r;
}
