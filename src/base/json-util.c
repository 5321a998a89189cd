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
