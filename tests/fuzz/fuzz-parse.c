/* Fuzz target: the value parsers of parse.h, the limits table, and the
 * --device/--device-cgroup-rule/-v/--mount specs.  The first byte of the input
 * chooses the parser (modulo their number), the rest is the value; the env
 * and label file parsers read it from a memfd. */
#include "config.h"

#include "berth/devices.h"
#include "berth/limits.h"
#include "berth/parse.h"
#include "berth/volume.h"
#include "fuzz.h"

static void fuzz_value(unsigned which, const char *s)
{
        cleanup_error berth_error_t err = NULL;
        switch (which) {
        case 0: {
                uint64_t v;
                (void) parse_size(s, &v, &err);
                break;
        }
        case 1: {
                long long ns;
                (void) parse_duration(s, &ns, &err);
                break;
        }
        case 2: {
                long long ns;
                (void) parse_go_duration(s, &ns, &err);
                break;
        }
        case 3: {
                long long ns;
                (void) parse_timestamp(s, 1700000000LL * 1000000000LL, &ns, &err);
                break;
        }
        case 4: {
                int sig;
                (void) parse_signal(s, &sig, &err);
                break;
        }
        case 5: {
                cleanup_free char *policy = NULL;
                unsigned retries;
                (void) parse_restart_policy(s, &policy, &retries, &err);
                break;
        }
        case 6: {
                uint64_t nano;
                (void) parse_nano_cpus(s, &nano, &err);
                break;
        }
        case 7: {
                cleanup_free unsigned char *mask = NULL;
                size_t len;
                if (parse_cpuset(s, &mask, &len, &err) == 0)
                        free(format_cpuset(mask, len));
                break;
        }
        case 8: {
                int64_t v;
                (void) parse_int64(s, &v, &err);
                break;
        }
        case 9: {
                const char *property;
                uint64_t soft, hard;
                (void) parse_ulimit(s, &property, &soft, &hard, &err);
                break;
        }
        case 10: {
                bool b = false;
                (void) parse_bool_flag(s, &b);
                break;
        }
        }
}

/* A limit flag's value (the row chosen by the first byte), then the whole
 * set checked together and turned into unit properties, as `run` does. */
static void fuzz_limit(unsigned row, const char *s)
{
        struct limits l = { 0 };
        struct unit_props props = { 0 };
        cleanup_error berth_error_t err = NULL;
        if (limits_set(&l, &limit_defs[row % limit_defs_count], s, &err) == 0 &&
            limits_to_props(&l, &props, &err) == 0)
                free(unit_props_to_text(&props, NULL));
        unit_props_free(&props);
        limits_free(&l);
}

/* --device, --device-cgroup-rule, -v and --mount (with the relative-source
 * rewriting the CLI does first). */
static void fuzz_specs(unsigned which, const char *s)
{
        cleanup_error berth_error_t err = NULL;
        switch (which) {
        case 0: {
                struct device_map d;
                if (device_map_parse(s, &d, &err) == 0)
                        device_map_clear(&d);
                break;
        }
        case 1:
                (void) device_cgroup_rule_check(s, &err);
                break;
        case 2:
        case 3: {
                cleanup_free char *abs = which == 2 ? mount_spec_volume_absolute(s, "/work/dir")
                                                    : mount_spec_mount_absolute(s, "/work/dir");
                struct mount_spec m;
                int r = which == 2 ? mount_spec_parse_volume(abs, &m, &err) : mount_spec_parse_mount(abs, &m, &err);
                if (r == 0)
                        mount_spec_clear(&m);
                break;
        }
        }
}

static void fuzz_file_parsers(bool labels, const uint8_t *data, size_t size)
{
        char path[32];
        cleanup_close int fd = fuzz_file(data, size, path);
        if (fd < 0)
                return;
        cleanup_error berth_error_t err = NULL;
        cleanup_strv char **v = NULL;
        if (labels)
                (void) parse_label_file(path, &v, &err);
        else
                (void) parse_env_file(path, &v, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        unsigned which = data[0] % 18;
        if (which == 11 || which == 12) {
                fuzz_file_parsers(which == 12, data + 1, size - 1);
                return 0;
        }
        if (which == 13) { /* the second byte picks the limit */
                if (size < 2)
                        return 0;
                cleanup_free char *v = fuzz_text(data + 2, size - 2);
                fuzz_limit(data[1], v);
                return 0;
        }
        cleanup_free char *s = fuzz_text(data + 1, size - 1);
        if (which >= 14)
                fuzz_specs(which - 14, s);
        else
                fuzz_value(which, s);
        return 0;
}
