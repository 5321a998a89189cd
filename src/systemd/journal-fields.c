/* berth — the journal fields of a container's entries (include/berth/journal.h),
 * apart from journal.c: berth-generator writes them into drop-ins, and
 * needs no sd-journal. */
#include "config.h"

#include <stdio.h>

#include "berth/journal.h"
#include "berth/util.h"

const char *journal_tag_of(const struct log_fields *f, char id12[static 13])
{
        snprintf(id12, 13, "%.12s", f->id_full ? f->id_full : "");
        return f->tag ? f->tag : id12;
}

char **journal_extra_fields(const struct log_fields *f)
{
        char id12[13];
        const char *tag = journal_tag_of(f, id12);
        char **v = xcalloc(1, sizeof(char *));
        struct {
                const char *key, *value;
        } fields[] = {
                { "CONTAINER_ID", f->id_full ? id12 : NULL },
                { "CONTAINER_ID_FULL", f->id_full },
                { "CONTAINER_NAME", f->name },
                { "CONTAINER_TAG", f->id_full || f->tag ? tag : NULL },
                { "IMAGE_NAME", f->image },
        };
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                if (!fields[i].value)
                        continue;
                cleanup_free char *kv = xasprintf("%s=%s", fields[i].key, fields[i].value);
                strv_push(&v, kv);
        }
        return v;
}
