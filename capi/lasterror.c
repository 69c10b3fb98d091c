// The message buffer of eps_last_error, one per thread. Go code cannot hold
// thread-local state, but an exported Go function runs on the C thread that
// called it, so eps_set_error stores into the caller's own buffer.

#include <string.h>

#include "epsilon.h"

#define EPS_ERROR_MAX 1024

static __thread char eps_error[EPS_ERROR_MAX];

void eps_set_error(const char *msg, size_t len) {
	if (len >= EPS_ERROR_MAX) {
		len = EPS_ERROR_MAX - 1;
	}
	memcpy(eps_error, msg, len);
	eps_error[len] = '\0';
}

const char *eps_last_error(void) { return eps_error; }
