// Package gpuaccel runs the block codec on an NVIDIA GPU. Its streams are
// byte for byte those of codecs.Block for the same input and bound, so
// either path decodes the other's.
//
// The binary needs neither cgo nor the CUDA toolkit to build: the CUDA
// driver API (libcuda.so.1) and NVRTC are loaded at run time with purego.
// On first use the kernels in kernels/block.cu, embedded in the package,
// are compiled to PTX with NVRTC for the device's compute capability and
// cached under os.UserCacheDir()/epsilon/ptx, keyed by a SHA-256 of the
// source and the compile options. Where no driver, device or NVRTC is
// found, Available returns an error wrapping ErrNoDevice and callers use
// the CPU codec.
//
// Importing the package registers Block as the "gpu" implementation of the
// block codec ID (codecs.RegisterDevice); codecs never imports gpuaccel.
//
// How a batch runs: one GPU thread per block of 32 values. For encode,
// block_analyze quantizes every block and records its body size, whether
// it needs a mask record and its number of verbatim values. Exclusive
// prefix sums over those counts give every block its output offsets. The
// host reads the per-chunk totals to size the payloads, and block_pack
// writes them. Decode checks the headers on the host and the descriptors
// and exception kinds on the device, then runs the same prefix sums and
// block_decode. A whole batch of chunks of one dtype shares each launch.
//
// The kernels use no shared memory, barriers or warp intrinsics, so the
// tests compile the same source with g++ (kernels/emulate.h) and run the
// whole pipeline on the CPU against the CPU codec.
package gpuaccel
