/* berth image prune | system df | system check | system prune: Docker's
 * flags and output over image.h, container.h and the store layout of
 * store.h. */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "berth/blob.h"
#include "berth/cli.h"
#include "berth/container.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/layer.h"
#include "berth/util.h"
#include "berth/volume.h"

/* ---- shared ------------------------------------------------------------------- */
static int usage_ok(const char *text)
{
        fputs(text, stdout);
        return 0;
}

/* Docker asks only on a terminal; piped or scripted use proceeds. */
static bool confirm(const char *warning)
{
        if (!isatty(STDIN_FILENO))
                return true;
        printf("%s\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        char buf[64];
        if (!fgets(buf, sizeof(buf), stdin))
                return false;
        return buf[0] == 'y' || buf[0] == 'Y';
}

static long long du_total;
static int du_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) path;
        (void) ftw;
        if (flag == FTW_F && S_ISREG(st->st_mode))
                du_total += st->st_size;
        return 0;
}

/* Bytes of file content under path (not crossing mount points). */
static long long dir_size(const char *path)
{
        du_total = 0;
        (void) nftw(path, du_visit, 16, FTW_PHYS | FTW_MOUNT);
        return du_total;
}

/* Every layer (diff_id) of every image with its size: the sizes are summed
 * once per layer however many images share it. */
struct layer_sizes {
        char **ids;
        long long *sizes;
        size_t n;
};

static void layer_sizes_add(struct layer_sizes *ls, struct berth_store *s, const char *diff_id)
{
        for (size_t i = 0; i < ls->n; i++)
                if (streq(ls->ids[i], diff_id))
                        return;
        long long size = 0;
        (void) store_layer_info(s, diff_id, NULL, &size, NULL);
        ls->ids = xrealloc(ls->ids, (ls->n + 1) * sizeof(char *));
        ls->sizes = xrealloc(ls->sizes, (ls->n + 1) * sizeof(long long));
        ls->ids[ls->n] = xstrdup(diff_id);
        ls->sizes[ls->n] = size;
        ls->n++;
}

static void layer_sizes_free(struct layer_sizes *ls)
{
        for (size_t i = 0; i < ls->n; i++)
                free(ls->ids[i]);
        free(ls->ids);
        free(ls->sizes);
        *ls = (struct layer_sizes){};
}

static int all_layers(struct berth_store *s, struct layer_sizes *ls, berth_error_t *err)
{
        struct berth_image **imgs = NULL;
        size_t n = 0;
        if (image_list(s, &imgs, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; imgs[i]->diff_ids && imgs[i]->diff_ids[k]; k++)
                        layer_sizes_add(ls, s, imgs[i]->diff_ids[k]);
        image_list_free(imgs, n);
        return 0;
}

/* ---- image prune -------------------------------------------------------------- */
static const char image_prune_usage[] =
        "Usage:  berth image prune [OPTIONS]\n\n"
        "Remove unused images\n\n"
        "Options:\n"
        "  -a, --all     Remove all unused images, not just dangling ones\n"
        "  -f, --force   Do not prompt for confirmation (berth prompts only when\n"
        "                stdin is a terminal)\n";

struct prune_out {
        bool header_done;
        const char *header;
};

/* image_remove() reports "Untagged: X" / "Deleted: X"; prune prints them as
 * Docker does, lower-case, under a "Deleted Images:" header. */
static void prune_line(const char *line, void *userdata)
{
        struct prune_out *o = userdata;
        if (!o->header_done) {
                printf("%s\n", o->header);
                o->header_done = true;
        }
        if (startswith(line, "Untagged: "))
                printf("untagged: %s\n", line + strlen("Untagged: "));
        else if (startswith(line, "Deleted: "))
                printf("deleted: %s\n", line + strlen("Deleted: "));
        else
                printf("%s\n", line);
}

struct prune_ctx {
        struct berth_store *s;
        struct prune_out out;
};

static void prune_report(const char *line, void *userdata)
{
        prune_line(line, &((struct prune_ctx *) userdata)->out);
}

static int prune_in_use(const char *image_id, char **container_id, void *userdata, berth_error_t *err)
{
        return cli_image_in_use(image_id, container_id, ((struct prune_ctx *) userdata)->s, err);
}

/* Remove dangling (all: every unused) image; *reclaimed gets the bytes of the
 * layers that are gone afterwards.  printed tells whether anything was. */
static int prune_images(struct berth_store *s, bool all, long long *reclaimed, bool *printed, berth_error_t *err)
{
        struct layer_sizes before = {};
        struct layer_sizes after = {};
        struct berth_image **imgs = NULL;
        size_t n = 0;
        int ret = -1;
        struct prune_ctx ctx = { s, { false, "Deleted Images:" } };
        *reclaimed = 0;
        if (all_layers(s, &before, err) < 0 || image_list(s, &imgs, &n, err) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                struct berth_image *img = imgs[i];
                size_t ntags = strv_length(img->tags);
                if (ntags && !all)
                        continue;
                int used = store_image_in_use(s, img->id, NULL, err);
                if (used < 0)
                        goto out; /* nothing removed that might be in use */
                if (used)
                        continue;
                /* untag one name at a time: the last one deletes the image
                 * (image_remove re-checks use under the exclusive lock) */
                char **refs = ntags ? img->tags : NULL;
                char *const byid[] = { img->id, NULL };
                for (char *const *r = refs ? refs : byid; *r; r++) {
                        berth_error_t e = NULL;
                        if (image_remove(s, *r, false, prune_in_use, &ctx, prune_report, &e) < 0) {
                                fflush(stdout);
                                fprintf(stderr, "berth: %s\n", e ? e->msg : "unknown error");
                                berth_error_free(&e);
                                break;
                        }
                }
        }
        if (all_layers(s, &after, err) < 0)
                goto out;
        for (size_t i = 0; i < before.n; i++) {
                bool kept = false;
                for (size_t k = 0; k < after.n && !kept; k++)
                        kept = streq(before.ids[i], after.ids[k]);
                if (!kept)
                        *reclaimed += before.sizes[i];
        }
        ret = 0;
out:
        *printed = ctx.out.header_done;
        image_list_free(imgs, n);
        layer_sizes_free(&before);
        layer_sizes_free(&after);
        return ret;
}

static bool prune_volumes; /* system prune --volumes */

/* What every prune command starts with: its flags, then Docker's question
 * (warning, or warning_all with -a; no warning_all: -a is not an option of
 * cmd), asked unless -f.  Returns 1 to go on, 0 when done (--help, or the
 * answer was no), negative on a usage error. */
static int prune_begin(const char *cmd, const char *usage, const char *warning, const char *warning_all, int argc,
                       char **argv, bool *all, berth_error_t *err)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "volumes", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
                switch (c) {
                case 'V': /* system prune --volumes */
                        if (!streq(cmd, "system prune"))
                                return cli_usage_error(err, cmd, "unknown option '--volumes'");
                        prune_volumes = true;
                        break;
                case 'a':
                        *all = true;
                        break;
                case 'f':
                        force = true;
                        break;
                case 'h':
                        return usage_ok(usage);
                default:
                        return cli_usage_error(err, cmd, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, cmd, "\"%s\" accepts no arguments", cmd);
        if (*all && !warning_all)
                return cli_usage_error(err, cmd, "unknown option '--all'");
        return force || confirm(*all ? warning_all : warning) ? 1 : 0;
}

static void print_reclaimed(long long bytes)
{
        cleanup_free char *size = format_human_size(bytes);
        printf("Total reclaimed space: %s\n", size);
}

int cmd_image_prune(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool all = false;
        int r = prune_begin("image prune", image_prune_usage, "WARNING! This will remove all dangling images.",
                            "WARNING! This will remove all images without at least one container associated to them.",
                            argc, argv, &all, err);
        if (r <= 0)
                return r;
        long long reclaimed = 0;
        bool printed = false;
        if (prune_images(&cli->store, all, &reclaimed, &printed, err) < 0)
                return -1;
        if (printed)
                printf("\n");
        print_reclaimed(reclaimed);
        return 0;
}

/* ---- system prune -------------------------------------------------------------- */
static const char system_prune_usage[] =
        "Usage:  berth system prune [OPTIONS]\n\n"
        "Remove unused data: stopped containers, then dangling images (with -a every\n"
        "image no container uses)\n\n"
        "Options:\n"
        "  -a, --all     Remove all unused images, not just dangling ones\n"
        "  -f, --force   Do not prompt for confirmation (berth prompts only when\n"
        "                stdin is a terminal)\n"
        "      --volumes Prune anonymous volumes no container uses\n";

/* Remove every container that is not running: "Deleted Containers:" and
 * their IDs (and an empty line) on stdout, *reclaimed += their upper dirs. */
static int prune_containers(struct berth_store *s, long long *reclaimed, berth_error_t *err)
{
        struct berth_container **cs = NULL;
        size_t n = 0;
        if (cli_container_list(s, &cs, &n, err) < 0) /* an unreadable one is left alone */
                return -1;
        bool header = false;
        for (size_t i = 0; i < n; i++) {
                struct berth_container *c = cs[i];
                if (container_is_running(c))
                        continue;
                berth_error_t e = NULL;
                cleanup_close int lfd = container_lock(c, &e);
                if (lfd < 0 || container_is_running(c)) {
                        berth_error_free(&e);
                        continue;
                }
                cleanup_free char *upper = xasprintf("%s/upper", c->dir);
                long long size = dir_size(upper);
                if (container_remove(s, c, &e) < 0) {
                        fflush(stdout);
                        fprintf(stderr, "berth: %s\n", e ? e->msg : "unknown error");
                        berth_error_free(&e);
                        continue;
                }
                if (!header)
                        printf("Deleted Containers:\n");
                header = true;
                printf("%s\n", c->id);
                *reclaimed += size;
        }
        container_list_free(cs, n);
        if (header)
                printf("\n");
        return 0;
}

static const char container_prune_usage[] =
        "Usage:  berth container prune [OPTIONS]\n\n"
        "Remove all stopped containers\n\n"
        "Options:\n"
        "  -f, --force   Do not prompt for confirmation (berth prompts only when\n"
        "                stdin is a terminal)\n";

int cmd_container_prune(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool all = false;
        int r = prune_begin("container prune", container_prune_usage,
                            "WARNING! This will remove all stopped containers.", NULL, argc, argv, &all, err);
        if (r <= 0)
                return r;
        long long reclaimed = 0;
        if (prune_containers(&cli->store, &reclaimed, err) < 0)
                return -1;
        print_reclaimed(reclaimed);
        return 0;
}

int cmd_system_prune(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool all = false;
        int r = prune_begin("system prune", system_prune_usage,
                            "WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n",
                            "WARNING! This will remove:\n  - all stopped containers\n"
                            "  - all images without at least one container associated to them\n",
                            argc, argv, &all, err);
        if (r <= 0)
                return r;
        long long reclaimed = 0;
        if (prune_containers(&cli->store, &reclaimed, err) < 0)
                return -1;
        long long img_reclaimed = 0;
        bool printed = false;
        if (prune_images(&cli->store, all, &img_reclaimed, &printed, err) < 0)
                return -1;
        if (printed)
                printf("\n");
        if (prune_volumes && cli_volume_prune(&cli->store, false, &reclaimed, err) < 0)
                return -1;
        print_reclaimed(reclaimed + img_reclaimed);
        return 0;
}

/* ---- system df ----------------------------------------------------------------- */
static const char system_df_usage[] = "Usage:  berth system df\n\n"
                                      "Show berth disk usage\n";

static char *reclaimable(long long part, long long total)
{
        cleanup_free char *h = format_human_size(part);
        if (total <= 0)
                return xasprintf("%s", h);
        return xasprintf("%s (%lld%%)", h, part * 100 / total);
}

int cmd_system_df(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
                if (c == 'h')
                        return usage_ok(system_df_usage);
                if (c == 'v')
                        return cli_usage_error(err, "system df", "--verbose is not supported yet");
                return cli_usage_error(err, "system df", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind < argc)
                return cli_usage_error(err, "system df", "\"system df\" accepts no arguments");
        struct berth_store *s = &cli->store;
        int ret = -1;
        struct berth_image **imgs = NULL;
        size_t nimg = 0;
        struct berth_container **cs = NULL;
        size_t ncs = 0;
        struct layer_sizes used = {}, all = {};
        cleanup_free char *isz = NULL, *irec = NULL, *csz = NULL, *crec = NULL;
        if (image_list(s, &imgs, &nimg, err) < 0 || container_list(s, &cs, &ncs, err) < 0)
                goto out;
        size_t active_imgs = 0;
        for (size_t i = 0; i < nimg; i++) {
                int in_use = store_image_in_use(s, imgs[i]->id, NULL, err);
                if (in_use < 0)
                        goto out;
                active_imgs += in_use;
                for (size_t k = 0; imgs[i]->diff_ids && imgs[i]->diff_ids[k]; k++) {
                        layer_sizes_add(&all, s, imgs[i]->diff_ids[k]);
                        if (in_use)
                                layer_sizes_add(&used, s, imgs[i]->diff_ids[k]);
                }
        }
        long long img_size = 0, img_used = 0;
        for (size_t i = 0; i < all.n; i++)
                img_size += all.sizes[i];
        for (size_t i = 0; i < used.n; i++)
                img_used += used.sizes[i];
        size_t running = 0;
        long long ctr_size = 0, ctr_reclaim = 0;
        for (size_t i = 0; i < ncs; i++) {
                cleanup_free char *upper = xasprintf("%s/upper", cs[i]->dir);
                long long sz = dir_size(upper);
                ctr_size += sz;
                if (container_is_running(cs[i]))
                        running++;
                else
                        ctr_reclaim += sz;
        }
        char tot_i[32], act_i[32], tot_c[32], act_c[32];
        snprintf(tot_i, sizeof(tot_i), "%zu", nimg);
        snprintf(act_i, sizeof(act_i), "%zu", active_imgs);
        snprintf(tot_c, sizeof(tot_c), "%zu", ncs);
        snprintf(act_c, sizeof(act_c), "%zu", running);
        isz = format_human_size(img_size);
        irec = reclaimable(img_size - img_used, img_size);
        csz = format_human_size(ctr_size);
        crec = reclaimable(ctr_reclaim, ctr_size);
        struct cli_table t;
        cli_table_init(&t, 5, "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
        cli_table_add(&t, "Images", tot_i, act_i, isz, irec);
        cli_table_add(&t, "Containers", tot_c, act_c, csz, crec);
        struct volume_info *vols = NULL;
        size_t nvol = 0, active_vols = 0;
        long long vol_size = 0, vol_reclaim = 0;
        berth_error_t verr = NULL;
        if (volume_list(s, &vols, &nvol, &verr) < 0)
                berth_error_free(&verr); /* shown as none */
        for (size_t i = 0; i < nvol; i++) {
                long long sz = volume_size(s, vols[i].name);
                char **users = NULL;
                if (volume_users(s, vols[i].name, &users, err) < 0) {
                        volume_list_free(vols, nvol);
                        cli_table_free(&t);
                        goto out;
                }
                vol_size += sz;
                if (users[0])
                        active_vols++;
                else
                        vol_reclaim += sz;
                strv_free(users);
        }
        volume_list_free(vols, nvol);
        char tot_v[32], act_v[32];
        snprintf(tot_v, sizeof(tot_v), "%zu", nvol);
        snprintf(act_v, sizeof(act_v), "%zu", active_vols);
        char *vsz = format_human_size(vol_size), *vrec = reclaimable(vol_reclaim, vol_size);
        cli_table_add(&t, "Local Volumes", tot_v, act_v, vsz, vrec);
        free(vsz);
        free(vrec);
        cli_table_add(&t, "Build Cache", "0", "0", "0B", "0B");
        cli_table_print(&t, stdout);
        cli_table_free(&t);
        ret = 0;
out:
        image_list_free(imgs, nimg);
        container_list_free(cs, ncs);
        layer_sizes_free(&used);
        layer_sizes_free(&all);
        return ret;
}

/* ---- system check ---------------------------------------------------------------- */
static const char system_check_usage[] =
        "Usage:  berth system check [--repair]\n\n"
        "Find leftovers of an interrupted berth: staging entries in ROOT/tmp, layers and\n"
        "blobs no image references, dangling l/ links, incomplete container directories;\n"
        "and container records that cannot be read (which make berth refuse to remove\n"
        "volumes and images, or to reuse names, until they are fixed).\n"
        "Exits 1 when something was found; --repair removes the leftovers and exits 0\n"
        "unless an unreadable record is left (it is never removed: fix or remove it by hand).\n\n"
        "Options:\n"
        "  -r, --repair   Remove what was found\n";

struct check {
        struct berth_store *s;
        bool repair;
        size_t found;
        size_t unrepaired; /* found, and left for the user to decide */
        char **trash; /* renamed into ROOT/tmp, deleted after the lock is released */
};

static void finding(struct check *ck, const char *what, const char *path)
{
        ck->found++;
        printf("%s%s: %s\n", ck->repair ? "removed " : "", what, path);
}

static void tmp_reported(const char *path, void *userdata)
{
        finding(userdata, "leftover staging entry", path);
}

/* Move an unreferenced layer out of the way (into tmp/, emptied at the end),
 * its l/ link first. */
static void remove_layer(struct check *ck, const char *digest, const char *path)
{
        if (image_digest_valid(digest))
                store_layer_trash(ck->s, digest, &ck->trash);
        else
                (void) rm_rf(path, NULL); /* not even named like a layer */
}

static void remove_blob(struct check *ck, const char *digest, const char *path)
{
        (void) rm_rf(path, NULL);
}

/* Each entry of ROOT/SUBDIR but "." and ".." given to visit, with the
 * directory's path and its open DIR: the walk of every check below.  A
 * directory that is not there has nothing to find. */
static void check_entries(struct check *ck, const char *subdir,
                          void (*visit)(struct check *ck, const char *dir, DIR *d, const char *name, void *userdata),
                          void *userdata)
{
        cleanup_free char *dir = store_path(ck->s, "%s", subdir);
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        visit(ck, dir, d, de->d_name, userdata);
}

struct unreferenced {
        char **refs;
        const char *what;
        void (*remove)(struct check *ck, const char *digest, const char *path);
};

/* An entry (named by a sha256 hex digest) that refs does not name is
 * reported as "unreferenced WHAT", and removed with --repair. */
static void check_unreferenced(struct check *ck, const char *dir, DIR *d, const char *name, void *userdata)
{
        const struct unreferenced *u = userdata;
        cleanup_free char *digest = xasprintf("sha256:%s", name);
        if (strv_contains(u->refs, digest))
                return;
        cleanup_free char *p = xasprintf("%s/%s", dir, name);
        cleanup_free char *label = xasprintf("unreferenced %s", u->what);
        finding(ck, label, p);
        if (ck->repair)
                u->remove(ck, digest, p);
}

static void check_link(struct check *ck, const char *dir, DIR *d, const char *name, void *userdata)
{
        struct stat st;
        if (fstatat(dirfd(d), name, &st, 0) == 0)
                return; /* resolves */
        cleanup_free char *p = xasprintf("%s/%s", dir, name);
        finding(ck, "dangling link", p);
        if (ck->repair)
                (void) unlinkat(dirfd(d), name, 0);
}

static void check_container(struct check *ck, const char *dir, DIR *d, const char *name, void *userdata)
{
        cleanup_free char *p = xasprintf("%s/%s", dir, name);
        cleanup_free char *cfg = xasprintf("%s/config.json", p);
        cleanup_free char *st = xasprintf("%s/state.json", p);
        if (access(cfg, F_OK) == 0 && access(st, F_OK) == 0) {
                struct berth_container *c = NULL;
                cleanup_error berth_error_t e = NULL;
                if (container_load(ck->s, name, &c, &e) == 0) {
                        container_free(c);
                        return;
                }
                /* a --rm container's record is not synced (it goes with
                 * its run): after a power cut it may be torn, and is garbage
                 * as a finished --rm one is (the `ephemeral` mark, or its
                 * config says --rm) */
                json_auto_t *conf = json_load_file(cfg, 0, NULL);
                cleanup_free char *mark = xasprintf("%s/ephemeral", p);
                if (access(mark, F_OK) == 0 || (conf && json_bool(conf, "HostConfig.AutoRemove"))) {
                        finding(ck, "--rm container left by a crash", p);
                        if (ck->repair)
                                (void) rm_rf(p, NULL);
                        return;
                }
                /* it may hold the only copy of what the container
                 * wrote (upper/): never removed behind the user's back */
                ck->found++;
                ck->unrepaired++;
                printf("unreadable container record: %s: %s%s\n", p, e ? e->msg : "?",
                       ck->repair ? " (not repaired: fix the file, or remove the directory if the "
                                    "container and its files are not needed)"
                                  : "");
                return;
        }
        finding(ck, "incomplete container directory", p);
        if (ck->repair)
                (void) rm_rf(p, NULL);
}

int cmd_system_check(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "repair", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct check ck = { .s = &cli->store };
        int c;
        while ((c = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
                if (c == 'h')
                        return usage_ok(system_check_usage);
                if (c == 'r')
                        ck.repair = true;
                else
                        return cli_usage_error(err, "system check", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind < argc)
                return cli_usage_error(err, "system check", "\"system check\" accepts no arguments");
        /* Shared is enough to look (creates and rmi hold it exclusive);
         * removing needs it exclusive, as rmi. */
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(ck.s, ck.repair, &lock, err) < 0)
                return -1;
        ck.trash = xcalloc(1, sizeof(char *));
        cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
        cleanup_strv char **diffs = xcalloc(1, sizeof(char *));
        size_t live = 0;
        int ret = -1;
        /* --repair reports what it removes, below */
        if (store_tmp_scan(ck.s, 0, &live, ck.repair ? NULL : tmp_reported, &ck, err) < 0)
                goto out;
        if (ck.repair && store_tmp_prune(ck.s, 0, tmp_reported, &ck, err) < 0)
                goto out;
        if (image_referenced_content(ck.s, &blobs, &diffs, err) < 0)
                goto out;
        check_entries(&ck, "layers", check_unreferenced, &(struct unreferenced){ diffs, "layer", remove_layer });
        check_entries(&ck, "blobs/sha256", check_unreferenced, &(struct unreferenced){ blobs, "blob", remove_blob });
        /* A layer being unpacked has its l/ link before its directory is in
         * place: while some berth is staging, leave dangling links alone. */
        if (live == 0)
                check_entries(&ck, "l", check_link, NULL);
        check_entries(&ck, "containers", check_container, NULL);
        ret = 0;
out:
        store_lock_scope_release(&lock);
        for (size_t i = 0; ck.trash[i]; i++)
                (void) rm_rf(ck.trash[i], NULL);
        strv_free(ck.trash);
        if (ret < 0)
                return ret;
        return (ck.found && !ck.repair) || ck.unrepaired ? 1 : 0;
}
