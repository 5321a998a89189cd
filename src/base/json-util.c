/* berth — JSON accessors that tolerate missing fields (see
 * include/berth/json-util.h). */
#include "config.h"

#include "berth/json-util.h"
#include "berth/util.h"

json_t *json_at(json_t *obj, const char *path)
{
        cleanup_free char *p = xstrdup(path);
        char *save = NULL;
        for (char *tok = strtok_r(p, ".", &save); tok && obj; tok = strtok_r(NULL, ".", &save))
                obj = json_is_object(obj) ? json_object_get(obj, tok) : NULL;
        return obj;
}

const char *json_str(json_t *obj, const char *path)
{
        json_t *v = json_at(obj, path);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

long long json_int(json_t *obj, const char *path, long long dflt)
{
        json_t *v = json_at(obj, path);
        return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool json_bool(json_t *obj, const char *path)
{
        return json_is_true(json_at(obj, path));
}

char **json_strv(json_t *arr)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
                if (json_is_string(e))
                        strv_push(&v, json_string_value(e));
        return v;
}

json_t *strv_to_json(char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

int json_write_atomic(const char *path, json_t *j, size_t flags, mode_t mode, berth_error_t *err)
{
        return json_write_atomic_sync(path, j, flags, mode, WRITE_DURABLE, err);
}

int json_write_atomic_sync(const char *path, json_t *j, size_t flags, mode_t mode, enum write_sync sync,
                           berth_error_t *err)
{
        cleanup_free char *text = json_dumps(j, flags);
        if (!text)
                return berth_error(err, ENOMEM, "serialise `%s`", path);
        return write_file_atomic_sync(path, text, strlen(text), mode, sync, err);
}

json_t *json_load_path(const char *path, size_t flags, json_error_t *error)
{
        cleanup_free char *text = NULL;
        size_t len = 0;
        berth_error_t e = NULL;
        if (read_file(path, &text, &len, &e) < 0) {
                if (error) {
                        *error = (json_error_t) { .line = -1, .column = -1, .position = 0 };
                        snprintf(error->text, sizeof(error->text), "%s", e->msg);
                        snprintf(error->source, sizeof(error->source), "%s", path);
                }
                berth_error_free(&e);
                return NULL;
        }
        return json_loadb(text, len, flags, error);
}

int json_config_string(const char *path, const char *key, char **out, berth_error_t *err)
{
        *out = NULL;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        json_error_t je;
        json_auto_t *j = json_load_file(path, 0, &je);
        if (!json_is_object(j))
                return berth_error(err, 0, "%s: invalid JSON (%s)", path, j ? "not an object" : je.text);
        json_t *v = json_object_get(j, key);
        if (v && !json_is_string(v))
                return berth_error(err, 0, "%s: \"%s\" is not a string", path, key);
        if (v && *json_string_value(v))
                *out = xstrdup(json_string_value(v));
        return 0;
}
