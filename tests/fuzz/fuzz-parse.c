/* Fuzz target: the value parsers of parse.h.  The first byte of the input
 * chooses the parser (modulo their number), the rest is the value; the env
 * and label file parsers read it from a memfd. */
#include "config.h"

#include "berth/parse.h"
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
                if (parse_signal(s, &sig, &err) == 0)
                        free(signal_name(sig));
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
        unsigned which = data[0] % 13;
        if (which >= 11) {
                fuzz_file_parsers(which == 12, data + 1, size - 1);
                return 0;
        }
        cleanup_free char *s = fuzz_text(data + 1, size - 1);
        fuzz_value(which, s);
        return 0;
}
