/* berth — image references, parsed and normalised as Docker's reference
 * package does:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] path-component ['/' path-component]*
 *   domain           := host [':' port-number]
 *   host             := domain-component ['.' domain-component]* | '[' IPv6 ']'
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   path-component   := /[a-z0-9]+/ (separator /[a-z0-9]+/)*
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := "sha256:" 64 lower-case hex (the only one berth stores)
 *
 * The first path component is a domain when it contains '.' or ':', is
 * "localhost", or has an upper-case letter; otherwise the domain is docker.io
 * and a one-component path gets "library/".  index.docker.io is docker.io. */
#include "config.h"

#include <ctype.h>

#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/util.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_TOTAL 255

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return isascii((unsigned char) c) && isalnum((unsigned char) c);
}

static bool is_word(char c)
{
        return is_alnum(c) || c == '_';
}

static bool valid_tag(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 128 || !is_word(t[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* One path component: alnum runs joined by '.', '_', '__' or '-'+. */
static bool valid_path_component(const char *c, size_t n)
{
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(c[0]) || !is_lower_alnum(c[n - 1]))
                return false;
        while (i < n) {
                while (i < n && is_lower_alnum(c[i]))
                        i++;
                if (i == n)
                        break;
                size_t s = i;
                while (i < n && !is_lower_alnum(c[i]))
                        i++;
                size_t len = i - s;
                const char *sep = c + s;
                bool ok = (len == 1 && (sep[0] == '.' || sep[0] == '_')) ||
                          (len == 2 && sep[0] == '_' && sep[1] == '_');
                if (!ok) {
                        ok = true;
                        for (size_t k = 0; k < len; k++)
                                if (sep[k] != '-')
                                        ok = false;
                }
                if (!ok)
                        return false;
        }
        return true;
}

static bool valid_path(const char *p)
{
        if (!*p)
                return false;
        for (const char *c = p;;) {
                size_t n = strcspn(c, "/");
                if (!valid_path_component(c, n))
                        return false;
                if (!c[n])
                        return true;
                c += n + 1;
        }
}

static bool valid_domain(const char *d)
{
        const char *port = NULL;
        size_t hostlen;
        if (d[0] == '[') {
                const char *close = strchr(d, ']');
                if (!close || close == d + 1)
                        return false;
                for (const char *c = d + 1; c < close; c++)
                        if (!isxdigit((unsigned char) *c) && *c != ':' && *c != '.')
                                return false;
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return false;
                hostlen = 0;
        } else {
                const char *colon = strchr(d, ':');
                hostlen = colon ? (size_t) (colon - d) : strlen(d);
                if (colon)
                        port = colon + 1;
                if (hostlen == 0)
                        return false;
                for (size_t i = 0; i < hostlen;) {
                        size_t s = i;
                        while (i < hostlen && d[i] != '.')
                                i++;
                        if (i == s || !is_alnum(d[s]) || !is_alnum(d[i - 1]))
                                return false;
                        for (size_t k = s; k < i; k++)
                                if (!is_alnum(d[k]) && d[k] != '-')
                                        return false;
                        if (i < hostlen)
                                i++; /* '.' */
                        if (i == hostlen && d[i - 1] == '.')
                                return false;
                }
        }
        if (port) {
                if (!*port)
                        return false;
                for (const char *c = port; *c; c++)
                        if (!isdigit((unsigned char) *c))
                                return false;
        }
        return true;
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != 64)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

void image_ref_free(struct image_ref *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        memset(r, 0, sizeof(*r));
}

int image_ref_parse(const char *s, struct image_ref *out, berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        if (!s || !*s)
                return berth_error(err, 0, "invalid reference format: the image name is empty");
        if (is_hex64(s))
                return berth_error(err, 0,
                                   "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);

        cleanup_free char *name = xstrdup(s);
        cleanup_free char *tag = NULL;
        cleanup_free char *digest = NULL;
        char *at = strchr(name, '@');
        if (at) {
                *at = '\0';
                if (!image_digest_valid(at + 1))
                        return berth_error(err, 0,
                                           "invalid reference format: `%s` has an invalid digest "
                                           "(expected sha256:<64 lower-case hex digits>)",
                                           s);
                digest = xstrdup(at + 1);
        }
        char *last_slash = strrchr(name, '/');
        char *colon = strrchr(last_slash ? last_slash : name, ':');
        if (colon) {
                *colon = '\0';
                if (!valid_tag(colon + 1))
                        return berth_error(err, 0,
                                           "invalid reference format: `%s` has an invalid tag (tags are up to 128 "
                                           "letters, digits, '_', '.' and '-', not starting with '.' or '-')",
                                           s);
                tag = xstrdup(colon + 1);
        }
        if (!*name)
                return berth_error(err, 0, "invalid reference format: `%s` has no repository name", s);
        cleanup_free char *domain = NULL;
        cleanup_free char *path = NULL;
        char *slash = strchr(name, '/');
        bool has_domain = false;
        if (slash) {
                bool upper = false;
                for (char *c = name; c < slash; c++)
                        if (isupper((unsigned char) *c))
                                upper = true;
                size_t n = (size_t) (slash - name);
                has_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
                             (n == strlen("localhost") && strncmp(name, "localhost", n) == 0) || upper;
        }
        if (has_domain) {
                domain = xstrndup(name, (size_t) (slash - name));
                path = xstrdup(slash + 1);
                if (!valid_domain(domain))
                        return berth_error(err, 0, "invalid reference format: `%s` has an invalid registry `%s`", s,
                                           domain);
                if (streq(domain, LEGACY_DEFAULT_DOMAIN)) {
                        free(domain);
                        domain = xstrdup(DEFAULT_DOMAIN);
                }
        } else {
                domain = xstrdup(DEFAULT_DOMAIN);
                path = xstrdup(name);
        }
        if (streq(domain, DEFAULT_DOMAIN) && !strchr(path, '/')) {
                char *p = xasprintf(OFFICIAL_PREFIX "%s", path);
                free(path);
                path = p;
        }
        for (char *c = path; *c; c++)
                if (isupper((unsigned char) *c))
                        return berth_error(err, 0, "invalid reference format: repository name (%s) must be lowercase",
                                           path);
        if (!valid_path(path))
                return berth_error(err, 0,
                                   "invalid reference format: `%s` is not a valid repository name (lower-case "
                                   "letters, digits and single '.', '_', '__' or '-' between them)",
                                   s);
        /* As Docker, the limit is on the normalised name ("docker.io/library/..."),
         * so that a name that parses prints in full form that parses again. */
        if (strlen(domain) + 1 + strlen(path) > NAME_MAX_TOTAL)
                return berth_error(err, 0, "invalid reference format: repository name must not be more than %d "
                                           "characters",
                                   NAME_MAX_TOTAL);
        if (!tag && !digest)
                tag = xstrdup("latest");
        out->domain = steal_pointer(&domain);
        out->path = steal_pointer(&path);
        out->tag = steal_pointer(&tag);
        out->digest = steal_pointer(&digest);
        return 0;
}

static char *with_suffix(const char *repo, const struct image_ref *r)
{
        return xasprintf("%s%s%s%s%s", repo, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                         r->digest ? r->digest : "");
}

char *image_ref_full(const struct image_ref *r)
{
        cleanup_free char *repo = xasprintf("%s/%s", r->domain, r->path);
        return with_suffix(repo, r);
}

char *image_ref_familiar_repo(const struct image_ref *r)
{
        if (streq(r->domain, DEFAULT_DOMAIN)) {
                if (startswith(r->path, OFFICIAL_PREFIX) && !strchr(r->path + strlen(OFFICIAL_PREFIX), '/'))
                        return xstrdup(r->path + strlen(OFFICIAL_PREFIX));
                return xstrdup(r->path);
        }
        return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_familiar(const struct image_ref *r)
{
        cleanup_free char *repo = image_ref_familiar_repo(r);
        return with_suffix(repo, r);
}

/* Docker's own names stay on Docker Hub: only a name that leaves the
 * registry out ("busybox", "team/app") moves. */
char *image_ref_with_default_registry(const char *s, const char *registry)
{
        if (!registry || streq(registry, DEFAULT_DOMAIN))
                return NULL;
        if (startswith(s, DEFAULT_DOMAIN "/") || startswith(s, LEGACY_DEFAULT_DOMAIN "/"))
                return NULL;
        struct image_ref r;
        if (image_ref_parse(s, &r, NULL) < 0)
                return NULL;
        char *full = NULL;
        if (streq(r.domain, DEFAULT_DOMAIN)) {
                /* "busybox" is library/busybox on Docker Hub, plain busybox elsewhere */
                const char *path = startswith(r.path, OFFICIAL_PREFIX) && !strchr(s, '/')
                                           ? r.path + strlen(OFFICIAL_PREFIX)
                                           : r.path;
                full = xasprintf("%s/%s%s%s", registry, path, r.digest ? "@" : ":", r.digest ? r.digest : r.tag);
        }
        image_ref_free(&r);
        return full;
}

int image_ref_tag_name(const char *name, char **full_out, berth_error_t *err)
{
        struct image_ref r;
        if (image_ref_parse(name, &r, err) < 0)
                return -1;
        if (r.digest) {
                image_ref_free(&r);
                return berth_error(err, 0, "refusing to create a tag with a digest reference (%s)", name);
        }
        *full_out = image_ref_full(&r);
        image_ref_free(&r);
        return 0;
}
