// Shared library that runs the kernels of block.cu on the CPU, for the tests
// of gpuaccel. Build:
//
//	g++ -std=c++17 -O2 -ffp-contract=off -fPIC -shared -o libblockemu.so emulate.cpp
//
// It exports the few calls gpuaccel's emulated backend needs: memory, copies
// and launches by kernel name with CUDA-style parameter arrays.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "emulate.h"
#include "block.cu"

dim3 threadIdx, blockIdx, blockDim, gridDim;

static_assert(sizeof(ChunkDesc) == 13 * 8, "ChunkDesc must be 13 fields of 8 bytes");

namespace {

template <class... A, std::size_t... I>
void call(void (*k)(A...), void** params, std::index_sequence<I...>) {
  k(*static_cast<A*>(params[I])...);
}

template <class... A>
void run(void (*k)(A...), unsigned grid, unsigned block, void** params) {
  gridDim = dim3{grid, 1, 1};
  blockDim = dim3{block, 1, 1};
  for (unsigned bx = 0; bx < grid; bx++) {
    for (unsigned tx = 0; tx < block; tx++) {
      blockIdx = dim3{bx, 0, 0};
      threadIdx = dim3{tx, 0, 0};
      call(k, params, std::index_sequence_for<A...>{});
    }
  }
}

struct Entry {
  const char* name;
  void (*launch)(unsigned, unsigned, void**);
};

#define ENTRY(k) {#k, [](unsigned g, unsigned b, void** p) { run(k, g, b, p); }}

const Entry kernels[] = {
    ENTRY(block_analyze_f32), ENTRY(block_analyze_f64), ENTRY(block_pack_f32),
    ENTRY(block_pack_f64),    ENTRY(block_totals),      ENTRY(block_dec_sizes),
    ENTRY(block_dec_verbs),   ENTRY(block_decode_f32),  ENTRY(block_decode_f64),
    ENTRY(scan_reduce),       ENTRY(scan_serial),       ENTRY(scan_apply),
};

}  // namespace

extern "C" {

uint64_t emu_alloc(uint64_t n) { return (uint64_t)(uintptr_t)std::calloc(n ? n : 1, 1); }

void emu_free(uint64_t p) { std::free((void*)(uintptr_t)p); }

void emu_htod(uint64_t dst, const void* src, uint64_t n) { std::memcpy((void*)(uintptr_t)dst, src, n); }

void emu_dtoh(void* dst, uint64_t src, uint64_t n) { std::memcpy(dst, (const void*)(uintptr_t)src, n); }

void emu_memset(uint64_t dst, uint32_t v, uint64_t n) { std::memset((void*)(uintptr_t)dst, (int)v, n); }

// emu_launch runs the named kernel and returns 0, or 1 for an unknown name.
int emu_launch(const char* name, unsigned grid, unsigned block, void** params) {
  for (const Entry& e : kernels) {
    if (std::strcmp(e.name, name) == 0) {
      e.launch(grid, block, params);
      return 0;
    }
  }
  return 1;
}
}
