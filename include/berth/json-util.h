/* berth — reading the JSON documents berth keeps (config.json, state.json,
 * network and volume records, image configs) where a field may be missing
 * or of another type: every accessor answers "absent" rather than failing,
 * so callers test one value instead of walking objects by hand.
 *
 * Cleanup is jansson's own json_auto_t (a json_t released by json_decrefp()
 * at the end of its scope); there is no berth cleanup_json. */
#ifndef BERTH_JSON_UTIL_H
#define BERTH_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>

/* The value at a dotted path of nested objects ("Config.Image"); NULL when a
 * step is missing or not an object. */
json_t *json_at(json_t *obj, const char *path);
/* The string at path, NULL when missing or not a string. */
const char *json_str(json_t *obj, const char *path);
/* The integer at path, dflt when missing or not an integer. */
long long json_int(json_t *obj, const char *path, long long dflt);
/* true only when path holds JSON true. */
bool json_bool(json_t *obj, const char *path);

#endif
