package gpuaccel

import _ "embed"

// blockSource is the CUDA C++ source of the block kernels. NVRTC compiles it
// on first use; the tests compile the same file with g++ through
// kernels/emulate.h.
//
//go:embed kernels/block.cu
var blockSource string

// Launch geometry: threads per thread block, and the entries each scan
// thread sums. A scan level with at most scanSerialMax entries runs on one
// thread.
const (
	threadsPerBlock = 256
	scanPer         = 64
	scanSerialMax   = 4096
)

// chunkDescLen is the size of one ChunkDesc row of block.cu: 13 fields of 8
// bytes.
const chunkDescLen = 13 * 8
