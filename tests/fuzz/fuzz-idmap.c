/* Fuzz target: the user namespace parsers of idmap.h.  The first byte
 * chooses the parser: a --uidmap range, a --userns mode, or the content of
 * /etc/subuid (looked up by name and by uid, then a range chosen from what
 * it gave, as --userns=auto does). */
#include "config.h"

#include "berth/idmap.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        cleanup_free char *s = fuzz_text(data + 1, size - 1);
        cleanup_error berth_error_t err = NULL;
        switch (data[0] % 3) {
        case 0: {
                struct idmap_range r;
                struct idmap m = {};
                if (idmap_range_parse(s, &r, &err) == 0 && idmap_add(&m, &r, "x", &err) == 0) {
                        free(idmap_proc_text(&m));
                        json_t *j = idmap_to_json(&m);
                        (void) idmap_from_json(j, &m, &err);
                        json_decref(j);
                }
                break;
        }
        case 1: {
                struct idmap_userns u;
                (void) idmap_userns_parse(s, &u, &err);
                break;
        }
        case 2: {
                struct idmap_range r[IDMAP_MAX];
                size_t n = 0;
                uint32_t start;
                if (idmap_subid_parse(s, "berth", 1000, r, IDMAP_MAX, &n, &err) == 0 && n > 0) {
                        (void) idmap_allocate(r, n, r + n / 2, n - n / 2, 1000, &start, &err);
                        /* a user's namespace of these ranges, keep-id and nomap nested in it */
                        struct idmap own = { .r = { { 0, 1000, 1 } }, .n = 1 }, out;
                        uint32_t next = 1;
                        for (size_t i = 0; i < n && own.n < IDMAP_MAX && next <= UINT32_MAX - r[i].size; i++) {
                                own.r[own.n++] = (struct idmap_range) { next, r[i].host, r[i].size };
                                next += r[i].size;
                        }
                        berth_error_free(&err);
                        if (idmap_nested(USERNS_KEEP_ID, &own, r[0].host % 70000, &out, &err) == 0)
                                free(idmap_proc_text(&out));
                        berth_error_free(&err);
                        (void) idmap_nested(USERNS_NOMAP, &own, 0, &out, &err);
                }
                break;
        }
        }
        return 0;
}
