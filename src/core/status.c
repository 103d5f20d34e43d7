/* status.c - status names and the inas_error record helpers. */
#include "inas/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *inas_status_name(inas_status s) {
    switch (s) {
    case INAS_OK: return "INAS_OK";
    case INAS_ERR_INVALID_ARG: return "INAS_ERR_INVALID_ARG";
    case INAS_ERR_NO_MEMORY: return "INAS_ERR_NO_MEMORY";
    case INAS_ERR_IO: return "INAS_ERR_IO";
    case INAS_ERR_FORMAT: return "INAS_ERR_FORMAT";
    case INAS_ERR_NOT_FOUND: return "INAS_ERR_NOT_FOUND";
    case INAS_ERR_UNSUPPORTED: return "INAS_ERR_UNSUPPORTED";
    case INAS_ERR_OPENCL: return "INAS_ERR_OPENCL";
    case INAS_ERR_BUILD: return "INAS_ERR_BUILD";
    case INAS_ERR_EXTERNAL: return "INAS_ERR_EXTERNAL";
    case INAS_ERR_INTERNAL: return "INAS_ERR_INTERNAL";
    }
    return "INAS_ERR_UNKNOWN";
}

void inas_error_clear(inas_error *err) {
    if (!err) return;
    err->code = INAS_OK;
    err->message[0] = '\0';
}

inas_status inas_error_set(inas_error *err, inas_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

inas_status inas_error_prefix(inas_error *err, const char *fmt, ...) {
    if (!err) return INAS_ERR_INVALID_ARG;
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), mlen = strlen(err->message);
    if (plen + 2 >= sizeof err->message) plen = sizeof err->message - 3;
    if (plen + 2 + mlen >= sizeof err->message) mlen = sizeof err->message - plen - 3;
    memmove(err->message + plen + 2, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen] = ':';
    err->message[plen + 1] = ' ';
    err->message[plen + 2 + mlen] = '\0';
    return err->code;
}
