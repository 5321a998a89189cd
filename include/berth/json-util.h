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
#include <sys/types.h>

#include "berth/error.h"
#include "berth/util.h"

/* The value at a dotted path of nested objects ("Config.Image"); NULL when a
 * step is missing or not an object. */
json_t *json_at(json_t *obj, const char *path);
/* The string at path, NULL when missing or not a string. */
const char *json_str(json_t *obj, const char *path);
/* The integer at path, dflt when missing or not an integer. */
long long json_int(json_t *obj, const char *path, long long dflt);
/* true only when path holds JSON true. */
bool json_bool(json_t *obj, const char *path);

/* The strings of a JSON array as a NULL-terminated strv (never NULL; other
 * elements, or a missing array, are skipped). */
char **json_strv(json_t *arr);
/* A new JSON array of the strings of v (NULL: empty). */
json_t *strv_to_json(char *const *v);

/* json_load_file() with one read() of the whole file instead of a getc()
 * per byte: the records every listing reads.  error->text says why on
 * failure (a file that cannot be opened too). */
json_t *json_load_path(const char *path, size_t flags, json_error_t *error);

/* json_dumps(j, flags) written with write_file_atomic(), or with
 * write_file_atomic_sync() and the sync it names. */
/* The string KEY of the configuration file PATH (a JSON object, as
 * config.json): *out NULL when the file or the key is missing or the string
 * is empty; an error names the file and the key. */
int json_config_string(const char *path, const char *key, char **out, berth_error_t *err);
int json_write_atomic(const char *path, json_t *j, size_t flags, mode_t mode, berth_error_t *err);
int json_write_atomic_sync(const char *path, json_t *j, size_t flags, mode_t mode, enum write_sync sync,
                           berth_error_t *err);

#endif
