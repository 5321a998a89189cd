/* berth — sha256 from libcrypto, loaded on first use (see include/berth/sha256.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "berth/dlopen-util.h"
#include "berth/sha256.h"
#include "berth/util.h"

static DLSYM_PROTOTYPE(EVP_MD_CTX_new) = NULL;
static DLSYM_PROTOTYPE(EVP_MD_CTX_free) = NULL;
static DLSYM_PROTOTYPE(EVP_sha256) = NULL;
static DLSYM_PROTOTYPE(EVP_DigestInit_ex) = NULL;
static DLSYM_PROTOTYPE(EVP_DigestUpdate) = NULL;
static DLSYM_PROTOTYPE(EVP_DigestFinal_ex) = NULL;

static void crypto_load(void)
{
        static void *dl;
        berth_error_t e = NULL;
        if (dlopen_many_sym(&dl, "libcrypto.so.3", &e, DLSYM_ARG(EVP_MD_CTX_new), DLSYM_ARG(EVP_MD_CTX_free),
                            DLSYM_ARG(EVP_sha256), DLSYM_ARG(EVP_DigestInit_ex), DLSYM_ARG(EVP_DigestUpdate),
                            DLSYM_ARG(EVP_DigestFinal_ex), NULL) < 0) {
                fprintf(stderr, "berth: %s\n", e->msg);
                exit(125);
        }
}

EVP_MD_CTX *sha256_new(void)
{
        crypto_load();
        EVP_MD_CTX *md = sym_EVP_MD_CTX_new();
        if (!md || sym_EVP_DigestInit_ex(md, sym_EVP_sha256(), NULL) != 1)
                abort();
        return md;
}

void sha256_update(EVP_MD_CTX *md, const void *data, size_t len)
{
        if (sym_EVP_DigestUpdate(md, data, len) != 1)
                abort();
}

void sha256_final_raw(EVP_MD_CTX *md, unsigned char out[SHA256_LEN])
{
        unsigned char raw[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (sym_EVP_DigestFinal_ex(md, raw, &n) != 1 || n != SHA256_LEN)
                abort();
        memcpy(out, raw, SHA256_LEN);
}

char *sha256_final(EVP_MD_CTX *md)
{
        unsigned char raw[SHA256_LEN];
        char hex[2 * SHA256_LEN + 1];
        sha256_final_raw(md, raw);
        hex_encode(raw, SHA256_LEN, hex);
        return xasprintf("sha256:%s", hex);
}

void sha256_free(EVP_MD_CTX *md)
{
        if (md)
                sym_EVP_MD_CTX_free(md);
}

char *sha256_hex_of(const void *data, size_t len)
{
        EVP_MD_CTX *md cleanup_md = sha256_new();
        unsigned char raw[SHA256_LEN];
        sha256_update(md, data, len);
        sha256_final_raw(md, raw);
        char *hex = xmalloc(2 * SHA256_LEN + 1);
        hex_encode(raw, SHA256_LEN, hex);
        return hex;
}
