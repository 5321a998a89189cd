/* berth — sd_journal_send() from libsystemd loaded on first use
 * (src/base/journal-dl.c), for code that berth-generator links: the
 * generator maps libsystemd only when it has a line for the journal. */
#ifndef BERTH_JOURNAL_DL_H
#define BERTH_JOURNAL_DL_H

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "berth/dlopen-util.h"

extern DLSYM_PROTOTYPE(sd_journal_send);

/* Resolve sym_sd_journal_send (a no-op once done, or where the program
 * links libsystemd already): 0, or -1 with *err set. */
int journal_dl_load(berth_error_t *err);

#endif
