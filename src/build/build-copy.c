/* berth — `berth build`: COPY/ADD: their sources (globs,
 * .dockerignore, --from stages and images, URLs), the content hash in the
 * cache key, and the step.
 * include/berth/build-internal.h says how the executor is split. */
#include "config.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/build-internal.h"
#include "berth/commit.h"
#include "berth/container-spec.h"
#include "berth/registry-curl.h"
#include "berth/util.h"

/* ---- COPY / ADD: sources ---------------------------------------------------------------- */

static bool has_wildcard(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Source paths matching the components comps[i..] below dir (relative to root). */
static void glob_below(int root, const char *dir, char **comps, size_t i, const struct dockerignore *ign,
                       char ***out)
{
        if (!comps[i]) {
                strv_push(out, *dir ? dir : ".");
                return;
        }
        if (!has_wildcard(comps[i])) {
                cleanup_free char *p = *dir ? xasprintf("%s/%s", dir, comps[i]) : xstrdup(comps[i]);
                struct stat st;
                if (fstatat(root, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && !dockerignore_excluded(ign, p))
                        glob_below(root, p, comps, i + 1, ign, out);
                return;
        }
        int fd = openat(root, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        cleanup_dir DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        cleanup_strv char **names = xcalloc(1, sizeof(char *));
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && fnmatch(comps[i], de->d_name, 0) == 0)
                        strv_push(&names, de->d_name);
        qsort(names, strv_length(names), sizeof(char *), str_cmp);
        for (size_t k = 0; names[k]; k++) {
                cleanup_free char *p = *dir ? xasprintf("%s/%s", dir, names[k]) : xstrdup(names[k]);
                if (!dockerignore_excluded(ign, p))
                        glob_below(root, p, comps, i + 1, ign, out);
        }
}

/* The sources a COPY names, relative to root (the context or a stage). */
int build_sources_expand(int root, char *const *patterns, const struct dockerignore *ign, const char *what,
                          char ***out, berth_error_t *err)
{
        cleanup_strv char **v = xcalloc(1, sizeof(char *));
        for (size_t i = 0; patterns[i]; i++) {
                cleanup_free char *clean = df_path_clean(patterns[i][0] == '/' ? patterns[i] + 1 : patterns[i]);
                if (streq(clean, "..") || startswith(clean, "../"))
                        return berth_error(err, 0, "forbidden path outside the build context: %s", patterns[i]);
                size_t before = strv_length(v);
                if (streq(clean, ".")) {
                        strv_push(&v, ".");
                        continue;
                }
                cleanup_strv char **comps = xcalloc(1, sizeof(char *));
                for (char *tok = clean, *next; tok; tok = next) {
                        next = strchr(tok, '/');
                        if (next)
                                *next++ = '\0';
                        strv_push(&comps, tok);
                }
                glob_below(root, "", comps, 0, ign, &v);
                if (strv_length(v) == before && !has_wildcard(patterns[i]))
                        return berth_error(err, 0, "file not found in %s or excluded by .dockerignore: stat %s: "
                                                   "file does not exist",
                                           what, patterns[i]);
        }
        if (!v[0])
                return berth_error(err, 0, "no source files were specified");
        *out = steal_pointer(&v);
        return 0;
}

/* Hash of what a source holds: names, types, modes, owners, content. */
struct sbuf_hash {
        char *text; /* accumulated lines; content is hashed per file */
};

static void hash_line(struct sbuf_hash *h, const char *line)
{
        char *n = xasprintf("%s%s\n", h->text ? h->text : "", line);
        free(h->text);
        h->text = n;
}

/* sha256 of a file's content, read in pieces (files may be large). */
static int hash_file(int root, const char *rel, char **digest, berth_error_t *err)
{
        cleanup_close int fd = openat(root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s` in the build context", rel);
        EVP_MD_CTX *md cleanup_md = sha256_new();
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read `%s` in the build context", rel);
                sha256_update(md, buf, (size_t) n);
        }
        *digest = sha256_final(md);
        return 0;
}

static int hash_tree(int root, const char *rel, const struct dockerignore *ign, struct sbuf_hash *h, berth_error_t *err)
{
        struct stat st;
        if (fstatat(root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat `%s` in the build context", rel);
        char line[4200];
        snprintf(line, sizeof(line), "%s %o %u %u", rel, (unsigned) st.st_mode, (unsigned) st.st_uid,
                 (unsigned) st.st_gid);
        hash_line(h, line);
        if (S_ISREG(st.st_mode)) {
                cleanup_free char *d = NULL;
                if (hash_file(root, rel, &d, err) < 0)
                        return -1;
                hash_line(h, d);
        } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(root, rel, target, sizeof(target) - 1);
                if (n >= 0) {
                        target[n] = '\0';
                        hash_line(h, target);
                }
        } else if (S_ISDIR(st.st_mode)) {
                int fd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "open `%s` in the build context", rel);
                cleanup_dir DIR *d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return berth_error(err, errno, "open `%s` in the build context", rel);
                }
                cleanup_strv char **names = xcalloc(1, sizeof(char *));
                struct dirent *de;
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                strv_push(&names, de->d_name);
                qsort(names, strv_length(names), sizeof(char *), str_cmp);
                for (size_t i = 0; names[i]; i++) {
                        cleanup_free char *child = streq(rel, ".") ? xstrdup(names[i])
                                                                   : xasprintf("%s/%s", rel, names[i]);
                        struct stat cst;
                        if (fstatat(root, child, &cst, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (dockerignore_excluded(ign, child) &&
                            !(S_ISDIR(cst.st_mode) && dockerignore_walk_excluded(ign, child)))
                                continue;
                        if (hash_tree(root, child, ign, h, err) < 0)
                                return -1;
                }
        }
        return 0;
}

static size_t curl_write(char *ptr, size_t size, size_t n, void *userdata)
{
        int fd = *(int *) userdata;
        return write_all(fd, ptr, size * n) < 0 ? 0 : size * n;
}

int build_download(const char *url, const char *dir, char **rel_out, berth_error_t *err)
{
        cleanup_free char *dl = xasprintf("%s/download", dir);
        if (mkdir(dl, 0755) < 0 && errno != EEXIST)
                return berth_error(err, errno, "mkdir `%s`", dl);
        const char *path = strstr(url, "://") ? strchr(strstr(url, "://") + 3, '/') : NULL;
        cleanup_free char *name = NULL;
        if (path && path[1]) {
                size_t q = strcspn(path, "?#");
                cleanup_free char *p = xstrndup(path, q);
                const char *base = strrchr(p, '/') + 1;
                name = xstrdup(*base ? base : "index.html");
        } else
                name = xstrdup("index.html");
        cleanup_free char *file = xasprintf("%s/%s", dl, name);
        cleanup_close int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error(err, errno, "create `%s`", file);
        if (registry_curl_load(err) < 0)
                return berth_error_wrap(err, "ADD %s", url);
        CURL *c = sym_curl_easy_init();
        if (!c)
                return berth_error(err, 0, "cannot initialise libcurl");
        char ebuf[CURL_ERROR_SIZE] = "";
        sym_curl_easy_setopt(c, CURLOPT_URL, url);
        sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        sym_curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
        sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
        sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
        CURLcode r = sym_curl_easy_perform(c);
        sym_curl_easy_cleanup(c);
        if (r != CURLE_OK)
                return berth_error(err, 0, "ADD %s: %s", url, *ebuf ? ebuf : sym_curl_easy_strerror(r));
        *rel_out = xasprintf("download/%s", name);
        return 0;
}

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

/* --from: a stage (by name or index) or an image. */
static int copy_from_image(struct build *b, const char *from, size_t cur_stage, struct berth_image **out, char **hash,
                           berth_error_t *err)
{
        const char *id = NULL;
        char *end = NULL;
        long idx = strtol(from, &end, 10);
        if (*from && !*end && idx >= 0 && (size_t) idx < cur_stage)
                id = b->stage_ids[idx];
        for (size_t i = 0; !id && i < cur_stage; i++)
                if (b->stages[i].name && strcasecmp(b->stages[i].name, from) == 0)
                        id = b->stage_ids[i];
        if (id) {
                if (image_lookup(b->store, id, out, err) < 0)
                        return -1;
        } else if (container_ensure_image(b->store, from, "missing", &(struct container_progress) { .out = stderr }, out, err) < 0)
                return -1;
        *hash = xstrdup((*out)->id);
        return 0;
}

/* The upper dir a copy child left in dir (dir/dest-upper) as the step's
 * layer on base; takes key. */
int build_commit_staged_layer(struct build *b, struct stage_state *st, const struct df_insn *in,
                               struct berth_image *base, const char *dir, char *key, berth_error_t *err)
{
        /* the staging dir is a container without a record: dest-upper is its upper dir */
        cleanup_free char *cdir = xasprintf("%s/c", dir);
        cleanup_free char *upper_from = xasprintf("%s/dest-upper", dir);
        cleanup_free char *upper_to = xasprintf("%s/c/upper", dir);
        if (mkdir(cdir, 0700) < 0 || rename(upper_from, upper_to) < 0) {
                free(key);
                return berth_error(err, errno, "stage the layer in `%s`", dir);
        }
        struct berth_container fake = { .id = "build", .name = "build", .dir = cdir, .config = json_object() };
        cleanup_free char *now = format_rfc3339(now_ns());
        cleanup_free char *by = xasprintf("/bin/sh -c #(nop) %s", in->text);
        json_auto_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", by);
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_free char *id = NULL;
        int r = image_commit_changes(b->store, &fake, base, st->config, entry, &id, err);
        json_decref(fake.config);
        if (r < 0) {
                free(key);
                return build_insn_error(b, in, err);
        }
        return build_state_commit_done(b, st, key, id, err);
}

/* A COPY/ADD source word that is a here-document ("<<EOF", "<<-EOF"). */
static const struct df_heredoc *heredoc_of(const struct df_insn *in, const char *word)
{
        if (!startswith(word, "<<"))
                return NULL;
        const char *name = word + 2 + (word[2] == '-');
        for (size_t i = 0; i < in->nheredocs; i++)
                if (streq(in->heredocs[i].name, name))
                        return &in->heredocs[i];
        return NULL;
}

/* URLs and here-documents as files under dir (download/NAME, heredoc/NAME). */
static int stage_sources(struct build *b, struct stage_state *st, const struct df_insn *in, char *const *patterns,
                         const char *dir, char ***srcs, berth_error_t *err)
{
        *srcs = xcalloc(1, sizeof(char *));
        for (size_t i = 0; patterns[i]; i++) {
                cleanup_free char *rel = NULL;
                const struct df_heredoc *h = heredoc_of(in, patterns[i]);
                if (h) {
                        cleanup_free char *hd = xasprintf("%s/heredoc", dir);
                        if (mkdir(hd, 0755) < 0 && errno != EEXIST)
                                return berth_error(err, errno, "mkdir `%s`", hd);
                        cleanup_free char *text = NULL;
                        cleanup_strv char **env = build_stage_env(st);
                        if (h->expand ? df_expand_heredoc(h->content, env, b->df->escape, &text, err) < 0
                                      : (text = xstrdup(h->content), 0))
                                return build_insn_error(b, in, err);
                        rel = xasprintf("heredoc/%s", h->name);
                        cleanup_free char *path = xasprintf("%s/%s", dir, rel);
                        if (write_file_atomic(path, text, strlen(text), 0644, err) < 0)
                                return -1;
                } else if (build_download(patterns[i], dir, &rel, err) < 0)
                        return build_insn_error(b, in, err);
                strv_push(srcs, rel);
        }
        return 0;
}

/* The part of COPY/ADD after the flags: sources, hash, cache, copy, layer. */
static int copy_step_in(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
                        struct copy_job *j, char **patterns, const char *from, const char *dir, berth_error_t *err)
{
        cleanup_image struct berth_image *from_img = NULL;
        cleanup_free char *content = NULL;
        cleanup_close int src_fd = -1;
        const char *srcdir = b->o->context;
        if (from) {
                j->from_context = false;
                if (copy_from_image(b, from, stage_idx, &from_img, &content, err) < 0)
                        return build_insn_error(b, in, err);
                j->from_patterns = patterns;
                cleanup_free char *pj = build_strv_join(patterns, "\n");
                char *c2 = xasprintf("%s\n%s", content, pj);
                free(content);
                content = c2;
        } else {
                size_t nstaged = 0;
                for (size_t i = 0; patterns[i]; i++)
                        nstaged += (j->add && is_url(patterns[i])) || heredoc_of(in, patterns[i]);
                if (nstaged && nstaged != strv_length(patterns))
                        return berth_error(err, 0, "%s:%d: %s of URLs or here-documents together with local files is "
                                                   "not supported by berth: use two instructions",
                                           b->dfname, in->line, df_kind_name(in->kind));
                if (nstaged) {
                        /* fetched or written into the staging dir, which then is the source */
                        if (stage_sources(b, st, in, patterns, dir, &j->srcs, err) < 0)
                                return -1;
                        srcdir = dir;
                        j->ignore = NULL;
                        j->add = false; /* a fetched archive is not extracted */
                }
                src_fd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (src_fd < 0)
                        return berth_error(err, errno, "open the build context `%s`", srcdir);
                if (!nstaged && build_sources_expand(src_fd, patterns, b->ignore, "build context", &j->srcs, err) < 0)
                        return berth_error_wrap(err, "%s:%d: %s failed", b->dfname, in->line, df_kind_name(in->kind));
                struct sbuf_hash h = { 0 };
                for (size_t i = 0; j->srcs[i]; i++)
                        if (hash_tree(src_fd, j->srcs[i], j->ignore, &h, err) < 0) {
                                free(h.text);
                                return -1;
                        }
                content = digest_of_data(h.text ? h.text : "", h.text ? strlen(h.text) : 0);
                free(h.text);
        }
        char *key = build_key_next(st->key, in->text, st->args, content);
        if (build_cache_hit(b, st, key))
                return 0;
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = build_scratch_image());
        if (build_copy_run(b, j, base, from_img, srcdir, dir, err) < 0) {
                free(key);
                return berth_error_wrap(err, "%s:%d: %s failed", b->dfname, in->line, df_kind_name(in->kind));
        }
        return build_commit_staged_layer(b, st, in, base, dir, key, err);
}

int build_step_copy(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
                     berth_error_t *err)
{
        size_t n = strv_length(in->args);
        cleanup_strv char **patterns = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i + 1 < n; i++) {
                cleanup_free char *w = NULL;
                if (build_expand(b, st, in, in->args[i], &w, err) < 0)
                        return -1;
                strv_push(&patterns, w);
        }
        cleanup_free char *dest_word = NULL;
        if (build_expand(b, st, in, in->args[n - 1], &dest_word, err) < 0)
                return -1;
        const char *wd = json_string_value(json_object_get(build_cfg(st), "WorkingDir"));
        cleanup_free char *dest = dest_word[0] == '/' ? xstrdup(dest_word)
                                                      : xasprintf("%s/%s", wd && *wd ? wd : "", dest_word);
        struct copy_job j = { .src_root = -1, .dest = dest, .from_context = true, .add = in->kind == DF_ADD,
                              .chmod = -1, .ignore = b->ignore };
        cleanup_free char *chown_x = NULL, *from = NULL;
        const char *flag = df_insn_flag(in, "chown");
        if (flag) {
                if (build_expand(b, st, in, flag, &chown_x, err) < 0)
                        return -1;
                j.chown = chown_x;
        }
        flag = df_insn_flag(in, "chmod");
        if (flag) {
                char *e = NULL;
                j.chmod = strtol(flag, &e, 8);
                if (!*flag || *e || j.chmod < 0 || j.chmod > 07777)
                        return berth_error(err, 0, "%s:%d: invalid --chmod=%s: give an octal mode", b->dfname,
                                           in->line, flag);
        }
        flag = df_insn_flag(in, "from");
        if (flag && build_expand(b, st, in, flag, &from, err) < 0)
                return -1;
        cleanup_free char *dir = NULL;
        cleanup_close int dir_fd = -1;
        if (store_tmp_create(b->store, "build", true, &dir, &dir_fd, err) < 0)
                return -1;
        int r = copy_step_in(b, st, stage_idx, in, &j, patterns, from, dir, err);
        strv_free(j.srcs);
        berth_error_t e = NULL;
        rm_rf(dir, &e);
        berth_error_free(&e);
        return r;
}

