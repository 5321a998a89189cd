/* berth — libcurl, loaded on first use (src/registry/registry-curl.c).
 *
 * berth is not linked with libcurl: only the commands that talk to a
 * registry (or `build`'s ADD of a URL) load it, so the others do not map it
 * and the ~30 libraries it pulls in.  Call registry_curl_load() before any
 * sym_curl_*(); it fails with "libcurl.so.4 is not available: ..." when the
 * library cannot be loaded.
 *
 * curl_easy_setopt() is variadic: sym_curl_easy_setopt() does not have the
 * checks of curl's typecheck-gcc.h, so pass a long as 1L, a size as
 * (curl_off_t), and callbacks of the exact CURLOPT_*FUNCTION type. */
#ifndef BERTH_REGISTRY_CURL_H
#define BERTH_REGISTRY_CURL_H

#include <curl/curl.h>

#include "berth/dlopen-util.h"

/* The soname berth was built against (libcurl's ABI has been 4 since 2006). */
#define REGISTRY_CURL_SONAME "libcurl.so.4"

extern DLSYM_PROTOTYPE(curl_easy_cleanup);
extern DLSYM_PROTOTYPE(curl_easy_escape);
extern DLSYM_PROTOTYPE(curl_easy_getinfo);
extern DLSYM_PROTOTYPE(curl_easy_init);
extern DLSYM_PROTOTYPE(curl_easy_perform);
extern DLSYM_PROTOTYPE(curl_easy_setopt);
extern DLSYM_PROTOTYPE(curl_easy_strerror);
extern DLSYM_PROTOTYPE(curl_free);
extern DLSYM_PROTOTYPE(curl_multi_add_handle);
extern DLSYM_PROTOTYPE(curl_multi_cleanup);
extern DLSYM_PROTOTYPE(curl_multi_info_read);
extern DLSYM_PROTOTYPE(curl_multi_init);
extern DLSYM_PROTOTYPE(curl_multi_perform);
extern DLSYM_PROTOTYPE(curl_multi_poll);
extern DLSYM_PROTOTYPE(curl_multi_remove_handle);
extern DLSYM_PROTOTYPE(curl_multi_setopt);
extern DLSYM_PROTOTYPE(curl_multi_strerror);
extern DLSYM_PROTOTYPE(curl_slist_append);
extern DLSYM_PROTOTYPE(curl_slist_free_all);

/* Load libcurl and initialise it once per process (curl_global_init). */
int registry_curl_load(berth_error_t *err);

#endif
