// Non-variadic wrappers around libcurl's variadic entry points, which Swift cannot call.
// Each wrapper fixes the type of the third argument, so Swift passes it correctly.
#ifndef RECOVERY_GATEWAY_CCURL_SHIM_H
#define RECOVERY_GATEWAY_CCURL_SHIM_H

#include <curl/curl.h>

/// curl_easy_setopt with a `long` argument (flags, numbers, timeouts).
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// curl_easy_setopt with a C string argument (libcurl copies the string).
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// curl_easy_setopt with an opaque pointer argument (callback user data, header lists).
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// The read callback's type: libcurl pulls upload bytes through it.
typedef size_t (*ccurl_read_callback)(char *buffer, size_t size, size_t count, void *userdata);

/// curl_easy_setopt(CURLOPT_READFUNCTION, …).
static inline CURLcode ccurl_setopt_read_function(CURL *handle, ccurl_read_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

/// The debug callback's type: libcurl reports protocol lines (e.g. the server's replies) through it.
typedef int (*ccurl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

/// curl_easy_setopt(CURLOPT_DEBUGFUNCTION, …).
static inline CURLcode ccurl_setopt_debug_function(CURL *handle, ccurl_debug_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, callback);
}

/// curl_easy_getinfo for a `long` result (response code, OS errno).
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// curl_easy_getinfo for a `double` result (timings).
static inline CURLcode ccurl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// curl_multi_setopt with a `long` argument.
static inline CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

#endif
