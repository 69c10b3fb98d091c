// Package chunk is the N-dimensional geometry of epsilon: array shapes of 1
// to MaxDims dimensions, regions as half-open boxes, the regular grid that
// cuts an array into chunks (edge chunks are clipped to the array), and
// copies of boxes between C-order buffers.
//
// Every shape, region and buffer is in C order: the first dimension is the
// slowest and the last is contiguous in memory. Copy moves whole contiguous
// runs with the built-in copy, so its cost per value is that of memmove.
//
// The package imports nothing else of epsilon.
package chunk
