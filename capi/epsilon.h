/*
 * epsilon.h: the C interface of the epsilon array store.
 *
 * Build the library with
 *
 *     go build -buildmode=c-shared -o libepsilon.so ./capi
 *
 * and link a program with -I capi -L. -lepsilon.
 *
 * Conventions
 *
 *   - A store is an integer handle (eps_db) returned by eps_open. No pointer
 *     to Go memory crosses this interface: every buffer belongs to the
 *     caller, and the library reads or writes it only during the call.
 *   - Every buffer is passed with its length in bytes, and every shape with
 *     its number of dimensions. A length that does not match what the shape
 *     and the array's dtype need is rejected with EPS_ERR_INVALID.
 *   - Every function returns EPS_OK (0) or a negative EPS_ERR_* code, and
 *     never aborts the host program: a null pointer, a bad handle or an
 *     internal failure is returned as a code. eps_last_error() returns the
 *     message of the last failed call made on the calling thread.
 *   - Shapes and regions list the slowest dimension first (C order). Values
 *     are in the host's byte order, which must be little-endian.
 *   - Functions are safe to call from several threads on one handle.
 *
 * Write-behind
 *
 *   With EPS_WRITE_BEHIND, eps_append and eps_write copy the values and
 *   return while the library encodes them on all cores; the caller may reuse
 *   its buffer at once. eps_flush waits for every earlier call and makes it
 *   durable; eps_close does the same before closing. A failure that happens
 *   after a call returned is reported (EPS_ERR_WRITE_BEHIND) by eps_flush,
 *   eps_close and every later eps_append and eps_write. A crash loses only
 *   calls not yet flushed. Reads see flushed calls (and calls committed in
 *   the background); call eps_flush before reading what you just wrote.
 *   Without EPS_WRITE_BEHIND, every write is durable when it returns.
 */
#ifndef EPSILON_H
#define EPSILON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A store handle, always greater than 0. */
typedef int64_t eps_db;

/* Return codes. */
#define EPS_OK 0
#define EPS_ERR_INVALID (-1)      /* bad argument: null pointer, wrong length, bad shape or region */
#define EPS_ERR_NOT_FOUND (-2)    /* no array of that name */
#define EPS_ERR_EXISTS (-3)       /* an array of that name exists already */
#define EPS_ERR_CLOSED (-4)       /* unknown or closed handle */
#define EPS_ERR_CORRUPT (-5)      /* stored data failed its checksum */
#define EPS_ERR_WRITE_BEHIND (-6) /* an earlier write-behind call failed */
#define EPS_ERR_READ_ONLY (-7)    /* the store was opened read-only */
#define EPS_ERR_FAILED (-8)       /* any other failure (I/O, encoding) */
#define EPS_ERR_INTERNAL (-9)     /* a bug in the library, caught at the boundary */

/* Flags of eps_open. */
#define EPS_WRITE_BEHIND 1 /* eps_write and eps_append return before the values are stored */
#define EPS_NO_SYNC 2      /* never wait for stable storage (tests, scratch stores) */
#define EPS_READ_ONLY 4    /* open without the right to change the store */

/* Element types. */
#define EPS_F32 1
#define EPS_F64 2
#define EPS_I8 3
#define EPS_I16 4
#define EPS_I32 5
#define EPS_I64 6
#define EPS_U8 7
#define EPS_U16 8
#define EPS_U32 9
#define EPS_U64 10

/* Error-bound modes. */
#define EPS_BOUND_NONE 0 /* lossless; bound must be 0 */
#define EPS_BOUND_ABS 1  /* |x - x'| <= bound for every value */
#define EPS_BOUND_REL 2  /* |x - x'| <= bound * (max - min) of the array's values */

/*
 * eps_open opens or creates the store in folder dir and sets *db.
 * flags is a sum of EPS_WRITE_BEHIND, EPS_NO_SYNC and EPS_READ_ONLY.
 * max_pending_bytes caps the memory write-behind holds in flight; 0 selects
 * the default (256 MiB).
 */
int eps_open(const char *dir, int flags, int64_t max_pending_bytes, eps_db *db);

/*
 * eps_close waits for pending writes, closes the store and frees the handle.
 * The handle is freed even when an error is returned.
 */
int eps_close(eps_db db);

/*
 * eps_create adds an empty array. shape has ndim entries (1 to 8). chunks,
 * when not NULL, has ndim entries; NULL selects chunks of about 1 MiB.
 * With unlimited set, the leading dimension grows with eps_append, and
 * shape[0] is its initial size (usually 0).
 */
int eps_create(eps_db db, const char *name, int dtype, int ndim, const int64_t *shape,
               const int64_t *chunks, int unlimited, int bound_mode, double bound);

/*
 * eps_append adds shape[0] timesteps to an unlimited array. shape has ndim
 * entries, and shape[1..ndim-1] must equal the array's trailing dimensions.
 * data holds nbytes bytes of values in C order. When first is not NULL, it
 * receives the index of the first appended timestep.
 */
int eps_append(eps_db db, const char *name, int ndim, const int64_t *shape, const void *data,
               size_t nbytes, int64_t *first);

/*
 * eps_write stores the region that starts at start and spans count, both of
 * ndim entries, from data (nbytes bytes in C order).
 */
int eps_write(eps_db db, const char *name, int ndim, const int64_t *start, const int64_t *count,
              const void *data, size_t nbytes);

/*
 * eps_read reads the region that starts at start and spans count into dst,
 * which has room for nbytes bytes; nbytes must equal the region's size.
 */
int eps_read(eps_db db, const char *name, int ndim, const int64_t *start, const int64_t *count,
             void *dst, size_t nbytes);

/*
 * eps_shape writes the current shape of an array (as readers see it) to
 * shape, which has room for max_ndim entries, and its rank to *ndim.
 * It also returns the absolute error bound applied to the values in
 * *abs_bound when that pointer is not NULL (0 for lossless arrays).
 */
int eps_shape(eps_db db, const char *name, int max_ndim, int64_t *shape, int *ndim, double *abs_bound);

/* eps_flush waits for every earlier write and makes it durable. */
int eps_flush(eps_db db);

/*
 * eps_last_error returns the message of the last failed call made on the
 * calling thread, or "" when none failed. The string is owned by the
 * library and stays valid until the thread's next failed call.
 */
const char *eps_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* EPSILON_H */
