/* Error codes, the error record that says where, and vg_assert.
 *
 * Fallible calls return int: 0 on success, a negative VG_E* code on failure.
 * Constructors return NULL and fill a vg_error. The code list is one X-macro
 * so the enum and vg_strerror() can never disagree. */
#ifndef VG_CORE_ERROR_H
#define VG_CORE_ERROR_H

#define VG_ERRORS(X)                                   \
    X(NOMEM,    -1,  "out of memory")                  \
    X(PARSE,    -2,  "malformed input")                \
    X(CONFIG,   -3,  "invalid configuration")          \
    X(IO,       -4,  "input/output error")             \
    X(RANGE,    -5,  "value out of range")             \
    X(VERSION,  -6,  "unsupported format version")     \
    X(CHECKSUM, -7,  "checksum mismatch")              \
    X(FULL,     -8,  "capacity reached")               \
    X(KAFKA,    -9,  "kafka error")                    \
    X(STATE,    -10, "invalid state")                  \
    X(NOTFOUND, -11, "not found")                      \
    X(TIMEOUT,  -12, "timed out")                      \
    X(ARG,      -13, "invalid argument")               \
    X(EOF,      -14, "end of input")

enum {
    VG_OK = 0,
#define X(name, code, text) VG_E##name = code,
    VG_ERRORS(X)
#undef X
};

/* Where and what: `where` is file:row:col, topic/partition@offset, or a
 * config key path; `msg` is the human sentence. */
typedef struct vg_error {
    int  code;
    char where[64];
    char msg[160];
} vg_error;

/* Text for a VG_E* code; "unknown error" for anything else. Never NULL. */
const char *vg_strerror(int code);

/* Fill err (NULL-able) with code, an empty `where`, and a printf message.
 * Returns code, so callers can `return vg_error_set(err, VG_EPARSE, ...)`. */
int vg_error_set(vg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As vg_error_set, with `where` filled too. */
int vg_error_set_at(vg_error *err, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clears err (NULL-able) to VG_OK. */
void vg_error_clear(vg_error *err);

/* "where: msg" or just "msg"; returns buf. */
const char *vg_error_format(const vg_error *err, char *buf, unsigned long size);

/* Bugs, not inputs: on in every build, including Release. */
#define vg_assert(cond) \
    ((cond) ? (void)0 : vg__assert_fail(#cond, __FILE__, __LINE__))
void vg__assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#endif
