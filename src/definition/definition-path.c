/* berth — where definition files are (include/berth/definition.h): the
 * search path (BERTH_DEFINITION_DIRS, or $BERTH_DEFINITION_PATH), earlier
 * directories winning and a link to /dev/null masking a NAME as for units;
 * and the stable container ID of a definition's container. */
#include "config.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "berth/definition-internal.h"
#include "berth/util.h"

static char **search_dirs(void)
{
        const char *env = getenv("BERTH_DEFINITION_PATH");
        cleanup_free char *copy = xstrdup(env && *env ? env : BERTH_DEFINITION_DIRS);
        char **v = xcalloc(1, sizeof(char *));
        char *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
                strv_push(&v, t);
        return v;
}

/* A symlink to /dev/null masks a definition, as for units. */
static bool is_masked(const char *path)
{
        cleanup_free char *real = realpath(path, NULL);
        return real && streq(real, "/dev/null");
}

int definition_find(const char *name, char **path_out, berth_error_t *err)
{
        if (!definition_name_valid(name))
                return berth_error(err, 0, "invalid definition name '%s' (a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                   name ? name : "");
        cleanup_strv char **dirs = search_dirs();
        for (size_t i = 0; dirs[i]; i++) {
                cleanup_free char *path = xasprintf("%s/%s.container", dirs[i], name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (is_masked(path))
                        return berth_error(err, 0, "definition %s is masked (%s is a link to /dev/null)", name, path);
                *path_out = steal_pointer(&path);
                return 0;
        }
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; dirs[i]; i++) {
                char *t = xasprintf("%s%s%s", list, i ? ", " : "", dirs[i]);
                free(list);
                list = t;
        }
        return berth_error(err, ENOENT, "no definition %s.container in %s", name, list);
}

static int container_file(const struct dirent *e)
{
        size_t n = strlen(e->d_name);
        return e->d_name[0] != '.' && n > 10 && streq(e->d_name + n - 10, ".container");
}

static int definition_cmp(const void *a, const void *b)
{
        const struct definition *x = *(const struct definition *const *) a, *y = *(const struct definition *const *) b;
        return strcmp(x->name, y->name);
}

static void report_msg(void (*report)(const char *msg, void *ud), void *ud, const char *msg)
{
        if (report)
                report(msg, ud);
}

int definition_load_all(struct definition ***out, size_t *n, void (*report)(const char *msg, void *ud), void *ud)
{
        cleanup_strv char **dirs = search_dirs();
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        struct definition **v = NULL;
        size_t count = 0;
        int bad = 0;
        for (size_t i = 0; dirs[i]; i++) {
                struct dirent **ents = NULL;
                int ne = scandir(dirs[i], &ents, container_file, alphasort);
                if (ne < 0) {
                        if (errno != ENOENT && errno != ENOTDIR) {
                                cleanup_free char *msg = xasprintf("%s: cannot read the directory: %s", dirs[i],
                                                                   strerror(errno));
                                report_msg(report, ud, msg);
                                bad++;
                        }
                        continue;
                }
                for (int k = 0; k < ne; k++) {
                        cleanup_free char *name = xstrndup(ents[k]->d_name, strlen(ents[k]->d_name) - 10);
                        cleanup_free char *path = xasprintf("%s/%s", dirs[i], ents[k]->d_name);
                        free(ents[k]);
                        if (strv_contains(seen, name))
                                continue; /* an earlier directory has it */
                        strv_push(&seen, name);
                        if (is_masked(path))
                                continue;
                        struct definition *d = NULL;
                        berth_error_t e = NULL;
                        if (definition_load(path, name, &d, &e) < 0) {
                                report_msg(report, ud, e ? e->msg : path);
                                berth_error_free(&e);
                                bad++;
                                continue;
                        }
                        v = xrealloc(v, (count + 1) * sizeof(*v));
                        v[count++] = d;
                }
                free(ents);
        }
        if (count)
                qsort(v, count, sizeof(*v), definition_cmp);
        *out = v;
        *n = count;
        return bad;
}

char *definition_container_id(const char *name)
{
        cleanup_free char *data = xasprintf("berth-definition:%s", name);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(data, strlen(data), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
                abort();
        char *hex = xmalloc(2 * 32 + 1);
        hex_encode(md, len, hex);
        return hex;
}
