/* berth — content-addressed blobs: ROOT/blobs/sha256/HEX.
 *
 * Every write is hashed on the way in and checked against the digest the
 * caller expects; the bytes land in a locked staging file under ROOT/tmp and
 * are renamed into place, so a blob is either absent or complete and correct.
 * Writing a blob that exists is harmless (same name, same bytes). */
#include "config.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "berth/blob.h"
#include "berth/util.h"

struct blob_writer {
        struct berth_store *s;
        EVP_MD_CTX *md;
        char *path; /* staging file */
        int fd;
        long long size;
        bool committed;
};

bool image_digest_valid(const char *digest)
{
        if (!digest || !startswith(digest, "sha256:") || strlen(digest) != 7 + 64)
                return false;
        for (const char *p = digest + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

char *digest_of_data(const void *data, size_t len)
{
        EVP_MD_CTX *md cleanup_md = sha256_new();
        sha256_update(md, data, len);
        return sha256_final(md);
}

int store_blob_writer_open(struct berth_store *s, struct blob_writer **out, berth_error_t *err)
{
        struct blob_writer *w = xcalloc(1, sizeof(*w));
        w->s = s;
        w->fd = -1;
        w->md = sha256_new();
        if (store_tmp_create(s, "blob", false, &w->path, &w->fd, err) < 0) {
                store_blob_writer_free(w);
                return -1;
        }
        *out = w;
        return 0;
}

int store_blob_writer_write(struct blob_writer *w, const void *buf, size_t len, berth_error_t *err)
{
        if (len == 0)
                return 0;
        sha256_update(w->md, buf, len);
        int r = write_all(w->fd, buf, len);
        if (r < 0)
                return berth_error(err, -r, "write `%s`", w->path);
        w->size += len;
        return 0;
}

const char *store_blob_writer_path(const struct blob_writer *w)
{
        return w->path;
}

long long store_blob_writer_size(const struct blob_writer *w)
{
        return w->size;
}

int store_blob_writer_commit(struct blob_writer *w, const char *expect, char **digest_out, berth_error_t *err)
{
        if (w->committed)
                return berth_error(err, 0, "internal error: blob committed twice");
        cleanup_free char *digest = sha256_final(w->md);
        if (expect && !streq(expect, digest))
                return berth_error(err, 0, "digest mismatch: expected %s, got %s", expect, digest);
        if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0)
                return berth_error(err, errno, "sync `%s`", w->path);
        cleanup_free char *dst = store_path(w->s, "blobs/sha256/%s", digest + 7);
        if (rename(w->path, dst) < 0)
                return berth_error(err, errno, "rename `%s` to `%s`", w->path, dst);
        w->committed = true;
        cleanup_free char *dir = store_path(w->s, "blobs/sha256");
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        if (digest_out)
                *digest_out = steal_pointer(&digest);
        return 0;
}

void store_blob_writer_free(struct blob_writer *w)
{
        if (!w)
                return;
        if (w->path && !w->committed)
                unlink(w->path);
        if (w->fd >= 0)
                close(w->fd);
        sha256_free(w->md);
        free(w->path);
        free(w);
}

int store_blob_put_data(struct berth_store *s, const void *data, size_t len, char **digest_out, berth_error_t *err)
{
        cleanup_free char *digest = digest_of_data(data, len);
        if (store_blob_exists(s, digest)) {
                if (digest_out)
                        *digest_out = steal_pointer(&digest);
                return 0;
        }
        cleanup_blob_writer struct blob_writer *w = NULL;
        if (store_blob_writer_open(s, &w, err) < 0 || store_blob_writer_write(w, data, len, err) < 0 ||
            store_blob_writer_commit(w, digest, digest_out, err) < 0)
                return -1;
        return 0;
}

int store_blob_put_file(struct berth_store *s, const char *path, const char *expect, char **digest_out,
                        berth_error_t *err)
{
        if (expect && !image_digest_valid(expect))
                return berth_error(err, 0, "invalid digest `%s` (expected sha256:<64 hex digits>)", expect);
        if (expect && store_blob_exists(s, expect)) {
                if (digest_out)
                        *digest_out = xstrdup(expect);
                return 0; /* verified when it was written */
        }
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", path);
        cleanup_blob_writer struct blob_writer *w = NULL;
        if (store_blob_writer_open(s, &w, err) < 0)
                return -1;
        cleanup_free char *buf = xmalloc(1 << 16);
        ssize_t n;
        while ((n = read_chunk(fd, buf, 1 << 16, path, err)) > 0)
                if (store_blob_writer_write(w, buf, n, err) < 0)
                        return -1;
        if (n < 0)
                return (int) n;
        if (store_blob_writer_commit(w, expect, digest_out, err) < 0)
                return berth_error_wrap(err, "store `%s`", path);
        return 0;
}

int store_blob_path(struct berth_store *s, const char *digest, char **path_out, berth_error_t *err)
{
        if (!image_digest_valid(digest))
                return berth_error(err, 0, "invalid digest `%s` (expected sha256:<64 hex digits>)",
                                   digest ? digest : "");
        char *p = store_path(s, "blobs/sha256/%s", digest + 7);
        if (access(p, F_OK) < 0) {
                int e = errno;
                free(p);
                if (e == ENOENT) {
                        berth_error(err, 0, "blob %s is not in the store", digest);
                        if (err && *err)
                                (*err)->errnum = ENOENT;
                        return -ENOENT;
                }
                return berth_error(err, e, "blob %s", digest);
        }
        *path_out = p;
        return 0;
}

bool store_blob_exists(struct berth_store *s, const char *digest)
{
        if (!image_digest_valid(digest))
                return false;
        cleanup_free char *p = store_path(s, "blobs/sha256/%s", digest + 7);
        return access(p, F_OK) == 0;
}

static int blob_read(struct berth_store *s, const char *digest, bool verify, char **data, size_t *len,
                     berth_error_t *err)
{
        cleanup_free char *p = NULL;
        int r = store_blob_path(s, digest, &p, err);
        if (r < 0)
                return r;
        cleanup_free char *buf = NULL;
        size_t n = 0;
        if (read_file(p, &buf, &n, err) < 0)
                return -1;
        if (verify) {
                cleanup_free char *got = digest_of_data(buf, n);
                if (!streq(got, digest))
                        return berth_error(err, 0, "blob %s is corrupt (its content hashes to %s)", digest, got);
        }
        if (len)
                *len = n;
        *data = steal_pointer(&buf);
        return 0;
}

int store_blob_read(struct berth_store *s, const char *digest, char **data, size_t *len, berth_error_t *err)
{
        return blob_read(s, digest, true, data, len, err);
}

int store_blob_read_trusted(struct berth_store *s, const char *digest, char **data, size_t *len, berth_error_t *err)
{
        return blob_read(s, digest, false, data, len, err);
}
