/* Fuzz target: the Go-template engine of --format (parse, then execute over
 * a fixed object shaped like `berth inspect`'s: nested objects, arrays,
 * strings, numbers, booleans, null).  A template that parses must execute
 * or fail with an error, never crash. */
#include "config.h"

#include <jansson.h>

#include "berth/template.h"
#include "fuzz.h"

static const char object[] =
        "{\"Id\": \"4b1e0c9d2a7f6e5d\", \"Name\": \"/web\", \"Names\": \"web\", \"Ports\": \"0.0.0.0:8080->80/tcp\","
        " \"State\": {\"Status\": \"running\", \"Running\": true, \"Pid\": 4242, \"ExitCode\": 0, \"Error\": \"\"},"
        " \"Config\": {\"Env\": [\"PATH=/usr/bin\", \"A=b c\"], \"Cmd\": [\"httpd\", \"-f\"], \"Entrypoint\": null,"
        "   \"Labels\": {\"com.example.team\": \"blue\", \"empty\": \"\"}, \"Tty\": false, \"StopTimeout\": 10},"
        " \"HostConfig\": {\"Binds\": [\"/a:/b\"], \"Memory\": 268435456, \"NanoCpus\": 1.5e9},"
        " \"Mounts\": [{\"Source\": \"/a\", \"Destination\": \"/b\", \"RW\": true}], \"Size\": -1}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static json_t *obj;
        if (!obj) {
                obj = json_loads(object, 0, NULL);
                if (!obj)
                        abort();
        }
        cleanup_free char *text = fuzz_text(data, size);
        cleanup_error berth_error_t err = NULL;
        struct template *t = NULL;
        if (template_parse(text, &t, &err) < 0)
                return 0;
        cleanup_free char *out = NULL;
        if (template_execute(t, obj, &out, &err) == 0 && !out)
                abort(); /* success always gives a string */
        template_free(t);
        return 0;
}
