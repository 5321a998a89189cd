/* berth — `diff`: a container's changes, its upper dir against the merged
 * layers of its image (see include/berth/diff.h). */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "berth/archive-internal.h"
#include "berth/diff.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/mounts.h"
#include "berth/overlay.h"
#include "berth/rootless.h"
#include "berth/util.h"


void fs_changes_free(struct fs_change *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* The image's layer dirs, bottom first. */
struct lower {
        int *fds;
        size_t n;
};

static void lower_close(struct lower *lo)
{
        for (size_t i = 0; i < lo->n; i++)
                if (lo->fds[i] >= 0)
                        close(lo->fds[i]);
        free(lo->fds);
        lo->fds = NULL;
        lo->n = 0;
}

static int lower_open(struct berth_store *s, struct berth_image *img, struct lower *lo, berth_error_t *err)
{
        size_t n = strv_length(img->layer_links);
        lo->fds = xcalloc(n + 1, sizeof(int));
        lo->n = 0;
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *p = store_path(s, "%s", img->layer_links[i]);
                int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        lower_close(lo);
                        return berth_error(err, errno, "open the layer `%s` of image %s", p, img->id);
                }
                lo->fds[lo->n++] = fd;
        }
        return 0;
}

/* Does rel exist in the merged lower layers?  1 (with *st), 0 not.  Walks
 * each layer top-down without following symlinks; whiteouts, opaque
 * directories and non-directories on the way hide what is below. */
static int lower_lookup(const struct lower *lo, const char *rel, struct stat *st)
{
        for (size_t i = lo->n; i > 0; i--) {
                int dfd = lo->fds[i - 1];
                bool own = false, hidden = false;
                int result = -1; /* -1: not in this layer, look further down */
                cleanup_free char *p = xstrdup(rel);
                for (char *c = p;;) {
                        char *slash = strchr(c, '/');
                        if (slash)
                                *slash = '\0';
                        struct stat s2;
                        if (fstatat(dfd, c, &s2, AT_SYMLINK_NOFOLLOW) < 0) {
                                result = hidden ? 0 : -1;
                                break;
                        }
                        if (!slash) {
                                if (is_whiteout(&s2))
                                        result = 0;
                                else {
                                        *st = s2;
                                        result = 1;
                                }
                                break;
                        }
                        if (!S_ISDIR(s2.st_mode)) {
                                result = 0; /* a whiteout or a file hides everything under it */
                                break;
                        }
                        int nfd = openat(dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd < 0) {
                                result = hidden ? 0 : -1;
                                break;
                        }
                        if (own)
                                close(dfd);
                        dfd = nfd;
                        own = true;
                        if (overlay_dir_opaque(dfd))
                                hidden = true;
                        c = slash + 1;
                }
                if (own)
                        close(dfd);
                if (result >= 0)
                        return result;
        }
        return 0;
}

struct walk {
        struct lower lo;
        char **excluded; /* relative paths berth mounts over ("etc/hosts", "proc") */
        struct fs_change *v;
        size_t n;
};

static void walk_add(struct walk *w, char kind, const char *rel, bool opaque)
{
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        w->v[w->n++] = (struct fs_change){ .kind = kind, .path = xasprintf("/%s", rel), .opaque = opaque };
}

static bool ancestor_of_excluded(char **excluded, const char *rel)
{
        size_t n = strlen(rel);
        for (size_t i = 0; excluded[i]; i++)
                if (strncmp(excluded[i], rel, n) == 0 && excluded[i][n] == '/')
                        return true;
        return false;
}

static int walk_dir(struct walk *w, int dfd, const char *rel_dir, berth_error_t *err)
{
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return berth_error(err, errno, "read the container's changes");
        cleanup_dir DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return berth_error(err, errno, "read the container's changes");
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *rel = *rel_dir ? xasprintf("%s/%s", rel_dir, de->d_name) : xstrdup(de->d_name);
                if (strv_contains(w->excluded, rel))
                        continue;
                /* fuse-overlayfs's bookkeeping, which it never shows: the
                 * opaque marker (overlay_dir_opaque()) and whiteouts of it */
                if (rootless() && startswith(de->d_name, ".wh."))
                        continue;
                struct stat st, lst = {};
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* a running container removed it */
                        return berth_error(err, errno, "stat `/%s` in the container's changes", rel);
                }
                if (is_whiteout(&st)) {
                        walk_add(w, 'D', rel, false);
                        continue;
                }
                int in_lower = lower_lookup(&w->lo, rel, &lst);
                if (!S_ISDIR(st.st_mode)) {
                        walk_add(w, in_lower ? 'C' : 'A', rel, false);
                        continue;
                }
                cleanup_close int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return berth_error(err, errno, "open `/%s` in the container's changes", rel);
                }
                bool opaque = overlay_dir_opaque(cfd);
                size_t before = w->n;
                if (walk_dir(w, cfd, rel, err) < 0)
                        return -1;
                bool children = w->n > before;
                if (!in_lower) {
                        /* a directory berth made only as a mount point is no change */
                        if (children || !ancestor_of_excluded(w->excluded, rel))
                                walk_add(w, 'A', rel, false);
                } else if (children || opaque || !S_ISDIR(lst.st_mode) ||
                           (st.st_mode & 07777) != (lst.st_mode & 07777) || st.st_uid != lst.st_uid ||
                           st.st_gid != lst.st_gid)
                        walk_add(w, 'C', rel, opaque);
        }
        if (errno)
                return berth_error(err, errno, "read the container's changes");
        return 0;
}

static int change_cmp(const void *a, const void *b)
{
        return strcmp(((const struct fs_change *) a)->path, ((const struct fs_change *) b)->path);
}

/* "/etc/hosts" -> "etc/hosts" */
static void push_excluded(char ***v, const char *abs)
{
        if (!abs)
                return;
        cleanup_free char *n = path_normalize_relative(abs[0] == '/' ? abs + 1 : abs);
        if (n && !strv_contains(*v, n))
                strv_push(v, n);
}

/* Mount points berth itself puts in a container's root. */
static char **container_mount_points(struct berth_container *c)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t n;
        const struct mount_op *ops = mounts_base(&n);
        for (size_t i = 0; i < n; i++)
                push_excluded(&v, ops[i].dst);
        push_excluded(&v, "/etc/hostname");
        push_excluded(&v, "/etc/hosts");
        push_excluded(&v, "/etc/resolv.conf");
        size_t i;
        json_t *m;
        json_array_foreach(json_at(c->config, "Berth.Mounts"), i, m)
                push_excluded(&v, json_str(m, "Destination"));
        json_array_foreach(json_at(c->config, "Berth.Secrets"), i, m)
                push_excluded(&v, json_str(m, "Target"));
        json_array_foreach(json_at(c->config, "Berth.Tmpfs"), i, m) {
                const char *t = json_string_value(m);
                if (!t)
                        continue;
                cleanup_free char *dst = xstrdup(t);
                char *colon = strchr(dst, ':');
                if (colon)
                        *colon = '\0';
                push_excluded(&v, dst);
        }
        return v;
}

int container_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img,
                      struct fs_change **out, size_t *nout, berth_error_t *err)
{
        struct walk w = {};
        cleanup_free char *upper = xasprintf("%s/upper", c->dir);
        cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0)
                return berth_error(err, errno, "open the container's upper directory `%s`", upper);
        if (lower_open(s, img, &w.lo, err) < 0)
                return -1;
        w.excluded = container_mount_points(c);
        int r = walk_dir(&w, ufd, "", err);
        lower_close(&w.lo);
        strv_free(w.excluded);
        if (r < 0) {
                fs_changes_free(w.v, w.n);
                return -1;
        }
        if (w.n)
                qsort(w.v, w.n, sizeof(*w.v), change_cmp);
        *out = w.v;
        *nout = w.n;
        return 0;
}
