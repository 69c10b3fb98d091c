// Package gpuaccel will hold the GPU twin of the block codec: CUDA kernels
// loaded at run time, writing streams byte for byte identical to the CPU
// codec's. It registers itself in the codecs registry; codecs never imports
// it.
package gpuaccel
