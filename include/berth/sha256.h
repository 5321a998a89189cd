/* berth — sha256 (src/base/sha256.c), from libcrypto loaded on first use.
 *
 * Only commands that hash (pull, load, save, build, commit, import, a
 * definition's container id) map libcrypto; `run`, `ps` and the hooks a
 * unit runs do not.  sha256_new() ends the program with one line on
 * stderr when libcrypto cannot be loaded (it is a dependency of the
 * package, like libc): callers need no error path for a digest. */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <openssl/evp.h>
#include <stddef.h>

#define SHA256_LEN 32

EVP_MD_CTX *sha256_new(void);
void sha256_update(EVP_MD_CTX *md, const void *data, size_t len);
/* The raw digest; the context can be freed after. */
void sha256_final_raw(EVP_MD_CTX *md, unsigned char out[SHA256_LEN]);
/* "sha256:" + 64 lower-case hex (malloc'ed). */
char *sha256_final(EVP_MD_CTX *md);
void sha256_free(EVP_MD_CTX *md);
/* 64 lower-case hex of DATA's sha256 (malloc'ed). */
char *sha256_hex_of(const void *data, size_t len);

static inline void md_freep(EVP_MD_CTX **md)
{
        sha256_free(*md);
}
#define cleanup_md __attribute__((cleanup(md_freep)))

#endif
