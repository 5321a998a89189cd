/* Fuzz target: `berth load` of an archive from a stranger: the tar (plain or
 * compressed), Docker's manifest.json and OCI's index.json, the image
 * configs, and each layer unpacked into the store (whiteouts, hard links,
 * symlinks, names escaping the root).  Every input gets a fresh store in a
 * scratch directory, removed afterwards, so a crash reproduces from its
 * input alone.  Runs as root (layers keep owners and device nodes). */
#include "config.h"

#include "berth/archive.h"
#include "berth/store.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[32];
        cleanup_close int fd = fuzz_file(data, size, path);
        if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return 0;
        cleanup_free char *dir = xstrdup("/tmp/berth-fuzz-load-XXXXXX");
        if (!mkdtemp(dir))
                abort();
        cleanup_free char *root = xasprintf("%s/root", dir);
        cleanup_free char *run = xasprintf("%s/run", dir);
        cleanup_error berth_error_t err = NULL;
        struct berth_store s;
        if (store_open(&s, root, run, &err) < 0) {
                fprintf(stderr, "store_open: %s\n", err->msg);
                abort();
        }
        struct image_archive_report report = { 0 };
        char **ids = NULL;
        if (image_load_archive(&s, fd, &report, &ids, &err) == 0)
                strv_free(ids);
        store_close(&s);
        if (rm_rf(dir, NULL) < 0)
                abort();
        return 0;
}
