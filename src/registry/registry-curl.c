/* berth — libcurl, loaded on first use (see include/berth/registry-curl.h). */
#include "config.h"

#include <stdbool.h>

#include "berth/registry-curl.h"

DLSYM_PROTOTYPE(curl_easy_cleanup) = NULL;
DLSYM_PROTOTYPE(curl_easy_escape) = NULL;
DLSYM_PROTOTYPE(curl_easy_getinfo) = NULL;
DLSYM_PROTOTYPE(curl_easy_init) = NULL;
DLSYM_PROTOTYPE(curl_easy_perform) = NULL;
DLSYM_PROTOTYPE(curl_easy_setopt) = NULL;
DLSYM_PROTOTYPE(curl_easy_strerror) = NULL;
DLSYM_PROTOTYPE(curl_free) = NULL;
DLSYM_PROTOTYPE(curl_multi_add_handle) = NULL;
DLSYM_PROTOTYPE(curl_multi_cleanup) = NULL;
DLSYM_PROTOTYPE(curl_multi_info_read) = NULL;
DLSYM_PROTOTYPE(curl_multi_init) = NULL;
DLSYM_PROTOTYPE(curl_multi_perform) = NULL;
DLSYM_PROTOTYPE(curl_multi_poll) = NULL;
DLSYM_PROTOTYPE(curl_multi_remove_handle) = NULL;
DLSYM_PROTOTYPE(curl_multi_setopt) = NULL;
DLSYM_PROTOTYPE(curl_multi_strerror) = NULL;
DLSYM_PROTOTYPE(curl_slist_append) = NULL;
DLSYM_PROTOTYPE(curl_slist_free_all) = NULL;
static DLSYM_PROTOTYPE(curl_global_init) = NULL;

int registry_curl_load(berth_error_t *err)
{
        static void *dl;
        static bool ready;
        if (ready)
                return 0;
        int r = dlopen_many_sym(&dl, REGISTRY_CURL_SONAME, err,
                                DLSYM_ARG(curl_easy_cleanup),
                                DLSYM_ARG(curl_easy_escape),
                                DLSYM_ARG(curl_easy_getinfo),
                                DLSYM_ARG(curl_easy_init),
                                DLSYM_ARG(curl_easy_perform),
                                DLSYM_ARG(curl_easy_setopt),
                                DLSYM_ARG(curl_easy_strerror),
                                DLSYM_ARG(curl_free),
                                DLSYM_ARG(curl_global_init),
                                DLSYM_ARG(curl_multi_add_handle),
                                DLSYM_ARG(curl_multi_cleanup),
                                DLSYM_ARG(curl_multi_info_read),
                                DLSYM_ARG(curl_multi_init),
                                DLSYM_ARG(curl_multi_perform),
                                DLSYM_ARG(curl_multi_poll),
                                DLSYM_ARG(curl_multi_remove_handle),
                                DLSYM_ARG(curl_multi_setopt),
                                DLSYM_ARG(curl_multi_strerror),
                                DLSYM_ARG(curl_slist_append),
                                DLSYM_ARG(curl_slist_free_all),
                                NULL);
        if (r < 0)
                return r;
        /* Once, before any other call and while berth has no other thread,
         * as libcurl asks. */
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return berth_error(err, 0, "cannot initialise libcurl");
        ready = true;
        return 0;
}
