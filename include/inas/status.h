/* inas/status.h - status codes and the error record every fallible call fills.
 *
 * Every fallible function returns an inas_status. Functions that work on a
 * context leave a human-readable message on it (inas_ctx_last_error); functions
 * that need no context take an `inas_error *` (which may be NULL) and write the
 * code and message there. Library code never exits or aborts. */
#ifndef INAS_STATUS_H
#define INAS_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum inas_status {
    INAS_OK = 0,
    INAS_ERR_INVALID_ARG,   /* a null pointer, a bad shape, an out-of-range value */
    INAS_ERR_NO_MEMORY,     /* host allocation failed */
    INAS_ERR_IO,            /* open/read/write/rename/fsync failed */
    INAS_ERR_FORMAT,        /* malformed file contents (YAML, image, checkpoint, LUT) */
    INAS_ERR_NOT_FOUND,     /* no such file, device, kernel or key */
    INAS_ERR_UNSUPPORTED,   /* valid request this build or device cannot do */
    INAS_ERR_OPENCL,        /* an OpenCL call failed; the message names the call and code */
    INAS_ERR_BUILD,         /* an OpenCL program failed to build; the message holds the log */
    INAS_ERR_EXTERNAL,      /* an external program (adb, ...) failed */
    INAS_ERR_INTERNAL       /* a broken invariant inside inas: please report */
} inas_status;

/* Short stable name of a status code, e.g. "INAS_ERR_IO". */
const char *inas_status_name(inas_status s);

#define INAS_ERROR_MESSAGE_MAX 4096

/* An error record: the code and a message naming what failed (file, line,
 * field, OpenCL call, ...). A plain struct: put one on the stack. */
typedef struct inas_error {
    inas_status code;
    char message[INAS_ERROR_MESSAGE_MAX];
} inas_error;

/* Clears the record (code INAS_OK, empty message). Accepts NULL. */
void inas_error_clear(inas_error *err);

/* Writes code and a printf-style message into err (if err is not NULL) and
 * returns code, so that `return inas_error_set(err, INAS_ERR_IO, ...)` works. */
inas_status inas_error_set(inas_error *err, inas_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to the current message (keeps the code). Useful to add
 * the file name to an error that came from a lower layer. Returns err->code. */
inas_status inas_error_prefix(inas_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif /* INAS_STATUS_H */
