/* berth — sd_journal_send() loaded on first use (include/berth/journal-dl.h). */
#include "config.h"

#include "berth/journal-dl.h"

DLSYM_PROTOTYPE(sd_journal_send) = NULL;

int journal_dl_load(berth_error_t *err)
{
        static void *dl;
        return dlopen_many_sym(&dl, "libsystemd.so.0", err, DLSYM_ARG(sd_journal_send), NULL);
}
