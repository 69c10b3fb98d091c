/*
 * heat2d: a 2-D heat-equation solver that stores every timestep in epsilon.
 *
 * Build and run (from the repository root):
 *
 *     go build -buildmode=c-shared -o libepsilon.so ./capi
 *     gcc -O2 -Wall -I capi examples/c/heat2d.c -L. -lepsilon -o heat2d
 *     LD_LIBRARY_PATH=. ./heat2d /tmp/heat-store
 *
 * The solver advances u_t = alpha * (u_xx + u_yy) with explicit finite
 * differences on an NY x NX grid and appends each timestep to an unlimited
 * float64 array with an absolute error bound, through the write-behind
 * pipeline. It keeps its own copy of every timestep, and after a flush it
 * reads them back and checks every value against the bound. It also checks
 * that bad arguments return the documented codes. It prints one line per
 * failed check and exits with status 0 only when every check holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epsilon.h"

#define NY 64
#define NX 96
#define STEPS 60
#define BOUND 1e-4

static int failures = 0;

static void check(int ok, const char *what) {
	if (!ok) {
		fprintf(stderr, "FAIL: %s (last error: %s)\n", what, eps_last_error());
		failures++;
	}
}

/* step advances u by one explicit timestep into v; the boundary stays 0. */
static void step(const double *u, double *v) {
	const double r = 0.2; /* alpha * dt / dx^2, stable below 0.25 */
	for (int y = 0; y < NY; y++) {
		for (int x = 0; x < NX; x++) {
			int i = y * NX + x;
			if (y == 0 || x == 0 || y == NY - 1 || x == NX - 1) {
				v[i] = 0;
				continue;
			}
			v[i] = u[i] + r * (u[i - 1] + u[i + 1] + u[i - NX] + u[i + NX] - 4 * u[i]);
		}
	}
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s STORE_DIR\n", argv[0]);
		return 2;
	}
	eps_db db = 0;
	int rc = eps_open(argv[1], EPS_WRITE_BEHIND, 8 << 20, &db);
	if (rc != EPS_OK) {
		fprintf(stderr, "eps_open %s: %d: %s\n", argv[1], rc, eps_last_error());
		return 1;
	}

	const int64_t shape0[3] = {0, NY, NX};
	rc = eps_create(db, "T", EPS_F64, 3, shape0, NULL, 1, EPS_BOUND_ABS, BOUND);
	check(rc == EPS_OK, "create T");
	rc = eps_create(db, "T", EPS_F64, 3, shape0, NULL, 1, EPS_BOUND_ABS, BOUND);
	check(rc == EPS_ERR_EXISTS, "create T twice returns EPS_ERR_EXISTS");

	/* The initial state: a hot square off the centre. */
	double *all = calloc((size_t)STEPS * NY * NX, sizeof(double));
	double *u = calloc(NY * NX, sizeof(double));
	if (all == NULL || u == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (int y = NY / 4; y < NY / 2; y++) {
		for (int x = NX / 3; x < NX / 2; x++) {
			u[y * NX + x] = 100.0 + 0.01 * x;
		}
	}

	const int64_t one[3] = {1, NY, NX};
	for (int s = 0; s < STEPS; s++) {
		double *cur = all + (size_t)s * NY * NX;
		if (s == 0) {
			memcpy(cur, u, sizeof(double) * NY * NX);
		} else {
			step(all + (size_t)(s - 1) * NY * NX, cur);
		}
		int64_t first = -1;
		rc = eps_append(db, "T", 3, one, cur, sizeof(double) * NY * NX, &first);
		if (rc != EPS_OK || first != s) {
			fprintf(stderr, "FAIL: append timestep %d: rc %d, first %lld: %s\n", s, rc, (long long)first, eps_last_error());
			failures++;
			break;
		}
	}

	/* Bad arguments: each returns a code and writes nothing. */
	rc = eps_append(db, "T", 3, one, NULL, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_INVALID, "append from a NULL buffer returns EPS_ERR_INVALID");
	rc = eps_append(db, "T", 3, one, u, sizeof(double) * NY * NX - 8, NULL);
	check(rc == EPS_ERR_INVALID, "append with a short length returns EPS_ERR_INVALID");
	const int64_t wrong[3] = {1, NX, NY};
	rc = eps_append(db, "T", 3, wrong, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_INVALID, "append with the wrong trailing shape returns EPS_ERR_INVALID");
	check(strstr(eps_last_error(), "[n>=1") != NULL, "the message names the expected shape");
	rc = eps_append(db, NULL, 3, one, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_INVALID, "append to a NULL name returns EPS_ERR_INVALID");
	rc = eps_append(db, "nope", 3, one, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_NOT_FOUND, "append to a missing array returns EPS_ERR_NOT_FOUND");
	rc = eps_append(db + 1000, "T", 3, one, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_CLOSED, "append on an unknown handle returns EPS_ERR_CLOSED");
	rc = eps_append(db, "T", 99, one, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_INVALID, "append with ndim 99 returns EPS_ERR_INVALID");

	rc = eps_flush(db);
	check(rc == EPS_OK, "flush");

	int64_t shape[8];
	int ndim = 0;
	double abs_bound = 0;
	rc = eps_shape(db, "T", 8, shape, &ndim, &abs_bound);
	check(rc == EPS_OK, "shape");
	check(ndim == 3 && shape[0] == STEPS && shape[1] == NY && shape[2] == NX, "the shape is STEPS x NY x NX");
	check(abs_bound == BOUND, "the absolute bound is BOUND");

	/* Read one timestep back and check it value by value. */
	const int s = STEPS / 2;
	double *back = malloc(sizeof(double) * NY * NX);
	const int64_t start[3] = {s, 0, 0};
	rc = eps_read(db, "T", 3, start, one, back, sizeof(double) * NY * NX);
	check(rc == EPS_OK, "read timestep STEPS/2");
	double maxerr = 0;
	int bad = 0;
	for (int i = 0; i < NY * NX; i++) {
		double e = fabs(back[i] - all[(size_t)s * NY * NX + i]);
		if (e > maxerr) maxerr = e;
		if (!(e <= BOUND)) bad++;
	}
	check(bad == 0, "every value of timestep STEPS/2 is within the bound");

	/* Every timestep, in one read. */
	double *every = malloc(sizeof(double) * STEPS * NY * NX);
	const int64_t zero[3] = {0, 0, 0};
	const int64_t full[3] = {STEPS, NY, NX};
	rc = eps_read(db, "T", 3, zero, full, every, sizeof(double) * STEPS * NY * NX);
	check(rc == EPS_OK, "read every timestep");
	for (size_t i = 0; i < (size_t)STEPS * NY * NX; i++) {
		double e = fabs(every[i] - all[i]);
		if (e > maxerr) maxerr = e;
		if (!(e <= BOUND)) bad++;
	}
	check(bad == 0, "every value of every timestep is within the bound");
	rc = eps_read(db, "T", 3, zero, full, every, 16);
	check(rc == EPS_ERR_INVALID, "read into a short buffer returns EPS_ERR_INVALID");
	/* The leading dimension of T grows, so the store, not the C layer,
	   checks it: a region past the last timestep is still invalid. */
	const int64_t past[3] = {STEPS, 0, 0};
	const int64_t one_step[3] = {1, NY, NX};
	rc = eps_read(db, "T", 3, past, one_step, every, sizeof(double) * NY * NX);
	check(rc == EPS_ERR_INVALID, "read past the last timestep returns EPS_ERR_INVALID");
	check(strstr(eps_last_error(), "outside the array") != NULL, "the message says the region is outside the array");
	rc = eps_write(db, "T", 3, past, one_step, every, sizeof(double) * NY * NX);
	check(rc == EPS_ERR_INVALID, "write past the last timestep returns EPS_ERR_INVALID");

	/* A fixed array written by region: the final state, in two halves. */
	const int64_t fshape[2] = {NY, NX};
	rc = eps_create(db, "final", EPS_F64, 2, fshape, NULL, 0, EPS_BOUND_ABS, BOUND);
	check(rc == EPS_OK, "create final");
	const double *last = all + (size_t)(STEPS - 1) * NY * NX;
	const int64_t top[2] = {0, 0}, bottom[2] = {NY / 2, 0}, half[2] = {NY / 2, NX};
	check(eps_write(db, "final", 2, top, half, last, sizeof(double) * NY * NX / 2) == EPS_OK, "write the top half");
	check(eps_write(db, "final", 2, bottom, half, last + NY / 2 * NX, sizeof(double) * NY * NX / 2) == EPS_OK,
	      "write the bottom half");
	const int64_t outside[2] = {NY, 0};
	rc = eps_write(db, "final", 2, outside, half, last, sizeof(double) * NY * NX / 2);
	check(rc == EPS_ERR_INVALID, "write outside the array returns EPS_ERR_INVALID");
	check(eps_flush(db) == EPS_OK, "flush final");
	const int64_t fzero[2] = {0, 0};
	rc = eps_read(db, "final", 2, fzero, fshape, back, sizeof(double) * NY * NX);
	check(rc == EPS_OK, "read final");
	for (int i = 0; i < NY * NX; i++) {
		if (!(fabs(back[i] - last[i]) <= BOUND)) bad++;
	}
	check(bad == 0, "every value of final is within the bound");

	check(eps_close(db) == EPS_OK, "close");
	rc = eps_append(db, "T", 3, one, u, sizeof(double) * NY * NX, NULL);
	check(rc == EPS_ERR_CLOSED, "append after close returns EPS_ERR_CLOSED");
	check(eps_close(db) == EPS_ERR_CLOSED, "close twice returns EPS_ERR_CLOSED");

	free(all);
	free(u);
	free(back);
	free(every);
	if (failures > 0) {
		fprintf(stderr, "heat2d: %d checks failed\n", failures);
		return 1;
	}
	printf("heat2d: %d timesteps of %dx%d stored, max error %.3g <= bound %g\n", STEPS, NY, NX, maxerr, BOUND);
	return 0;
}
