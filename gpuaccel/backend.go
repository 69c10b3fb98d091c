package gpuaccel

import (
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"
)

// backend runs the kernels of block.cu on some device: the CUDA driver
// (cudaBackend) or, in the tests, the g++-built emulation. Device addresses
// are uint64. Calls are made by one goroutine at a time.
type backend interface {
	alloc(n uint64) (uint64, error)
	free(ptr uint64)
	// hostAlloc returns host memory for transfers: page-locked on a GPU.
	hostAlloc(n int) ([]byte, error)
	hostFree(b []byte)
	htod(dst uint64, src []byte) error
	dtoh(dst []byte, src uint64) error
	memset(dst uint64, v byte, n uint64) error
	// launch runs kernel on grid thread blocks of block threads. Each
	// argument is a uint64, uint32 or float64, passed by value.
	launch(kernel string, grid, block uint32, args ...any) error
	// startTimer starts timing device work; stop waits for the work
	// queued so far and returns the time it took on the device.
	startTimer() (stop func() (time.Duration, error), err error)
}

// launchParams packs args into the array of argument pointers that
// cuLaunchKernel takes. Each value sits in its own 8-byte slot, which the
// kernel reads with the width of its parameter type (little-endian). The
// caller must keep the returned slots alive and pinned until the launch
// returns.
func launchParams(args []any) ([]uint64, []unsafe.Pointer, *runtime.Pinner, error) {
	slots := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case uint64:
			slots[i] = v
		case uint32:
			slots[i] = uint64(v)
		case float64:
			slots[i] = math.Float64bits(v)
		default:
			return nil, nil, nil, fmt.Errorf("gpuaccel: kernel argument %d has type %T, expected uint64, uint32 or float64", i, a)
		}
	}
	params := make([]unsafe.Pointer, len(args))
	pinner := new(runtime.Pinner)
	if len(slots) > 0 {
		pinner.Pin(&slots[0])
	}
	for i := range slots {
		params[i] = unsafe.Pointer(&slots[i])
	}
	if len(params) > 0 {
		pinner.Pin(&params[0])
	}
	return slots, params, pinner, nil
}

// gridFor returns the number of thread blocks that cover n threads.
func gridFor(n uint64) (uint32, error) {
	g := (n + threadsPerBlock - 1) / threadsPerBlock
	if g > math.MaxInt32 {
		return 0, fmt.Errorf("gpuaccel: %d threads exceed the launch limit", n)
	}
	return uint32(max(g, 1)), nil
}
