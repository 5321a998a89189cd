/* berth — `berth build`: the cache index ROOT/build-cache/index.json.
 * include/berth/build-internal.h says how the executor is split. */
#include "config.h"



#include "berth/build-internal.h"
#include "berth/json-util.h"
#include "berth/util.h"

/* ---- the cache index ------------------------------------------------------------ */

static json_t *cache_load(struct berth_store *s)
{
        cleanup_free char *path = store_path(s, "build-cache/index.json");
        json_t *j = json_load_path(path, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        return j;
}

/* What the index holds for key (an image ID, or CACHE_NO_LAYER), or NULL. */
char *build_cache_lookup(struct build *b, const char *key)
{
        if (b->o->no_cache)
                return NULL;
        json_auto_t *idx = cache_load(b->store);
        const char *v = json_string_value(json_object_get(idx, key));
        return v ? xstrdup(v) : NULL;
}

/* The image cached under key, if it still exists. */
struct berth_image *build_cache_get(struct build *b, const char *key)
{
        cleanup_free char *id = build_cache_lookup(b, key);
        if (!id || streq(id, CACHE_NO_LAYER))
                return NULL;
        struct berth_image *img = NULL;
        berth_error_t e = NULL;
        if (image_lookup(b->store, id, &img, &e) < 0) {
                berth_error_free(&e);
                return NULL;
        }
        return img;
}

int build_cache_put(struct build *b, const char *key, const char *id, berth_error_t *err)
{
        struct berth_store *s = b->store;
        cleanup_free char *dir = store_path(s, "build-cache");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        cleanup_free char *lock = store_path(s, "build-cache/lock");
        cleanup_close int lfd = lock_file(lock, true, err);
        if (lfd < 0)
                return -1;
        json_auto_t *idx = cache_load(s);
        json_object_set_new(idx, key, json_string(id));
        cleanup_free char *text = json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS);
        cleanup_free char *path = store_path(s, "build-cache/index.json");
        return write_file_atomic(path, text, strlen(text), 0600, err);
}

