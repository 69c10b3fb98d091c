// Emulation of the CUDA C++ subset that block.cu uses, so that g++ can
// compile the kernels and run them on the CPU. A kernel launch becomes a loop
// over every (block, thread) pair that sets blockIdx and threadIdx and calls
// the kernel body. This is exact only for kernels that use no shared memory,
// barriers or warp intrinsics, which block.cu does not.
//
// Build with -ffp-contract=off so that g++ fuses no multiply-add, matching
// the __dmul_rn and __dadd_rn intrinsics, which round every operation.
#ifndef EPSILON_EMULATE_H
#define EPSILON_EMULATE_H

#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline

struct dim3 {
  unsigned x, y, z;
};

extern dim3 threadIdx, blockIdx, blockDim, gridDim;

static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline float __double2float_rn(double x) { return (float)x; }

static inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

static inline unsigned __float_as_uint(float f) {
  unsigned u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

static inline double __longlong_as_double(long long u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

static inline long long __double_as_longlong(double d) {
  long long u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// CUDA defines __clz(0) as 32 and __ffs(0) as 0; the GCC builtins leave
// those cases undefined.
static inline int __clz(unsigned x) { return x == 0 ? 32 : __builtin_clz(x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }

static inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  unsigned long long old = *p;
  if (v < old) *p = v;
  return old;
}

#endif
