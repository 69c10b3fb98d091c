package gpuaccel

import (
	"fmt"
	"time"
	"unsafe"
)

// cudaBackend runs the kernels on the device through the CUDA driver API, on
// the default stream of the device's primary context. The caller makes the
// context current on its OS thread (see device.enter).
type cudaBackend struct {
	d     *device
	funcs map[string]uintptr
}

// kernelNames lists the kernels of block.cu that the engine launches.
var kernelNames = []string{
	"block_analyze_f32", "block_analyze_f64", "block_pack_f32", "block_pack_f64", "block_totals",
	"block_dec_sizes", "block_dec_verbs", "block_decode_f32", "block_decode_f64",
	"scan_reduce", "scan_serial", "scan_apply",
}

// newCUDABackend compiles (or loads from the cache) the kernels for d and
// looks up every kernel.
func newCUDABackend(d *device) (*cudaBackend, error) {
	opts := nvrtcOptions(d.info.ComputeMajor, d.info.ComputeMinor)
	ptx, err := loadPTX(blockSource, opts)
	if err != nil {
		return nil, err
	}
	drv := d.drv
	var mod uintptr
	if err := drv.check("cuModuleLoadData", drv.cuModuleLoadData(&mod, unsafe.Pointer(&ptx[0]))); err != nil {
		return nil, fmt.Errorf("%w (the PTX may be newer than the driver supports; NVRTC options %v)", err, opts)
	}
	b := &cudaBackend{d: d, funcs: map[string]uintptr{}}
	for _, name := range kernelNames {
		var fn uintptr
		if err := drv.check("cuModuleGetFunction "+name, drv.cuModuleGetFunction(&fn, mod, cString(name))); err != nil {
			return nil, err
		}
		b.funcs[name] = fn
	}
	return b, nil
}

func (b *cudaBackend) alloc(n uint64) (uint64, error) {
	var p uint64
	err := b.d.drv.check("cuMemAlloc", b.d.drv.cuMemAlloc(&p, n))
	return p, err
}

func (b *cudaBackend) free(ptr uint64) { _ = b.d.drv.cuMemFree(ptr) }

func (b *cudaBackend) hostAlloc(n int) ([]byte, error) {
	var p unsafe.Pointer
	if err := b.d.drv.check("cuMemAllocHost", b.d.drv.cuMemAllocHost(&p, uint64(n))); err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), n), nil
}

func (b *cudaBackend) hostFree(buf []byte) {
	if cap(buf) > 0 {
		_ = b.d.drv.cuMemFreeHost(unsafe.Pointer(unsafe.SliceData(buf)))
	}
}

func (b *cudaBackend) htod(dst uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return b.d.drv.check("cuMemcpyHtoD", b.d.drv.cuMemcpyHtoD(dst, unsafe.Pointer(&src[0]), uint64(len(src))))
}

func (b *cudaBackend) dtoh(dst []byte, src uint64) error {
	if len(dst) == 0 {
		return nil
	}
	return b.d.drv.check("cuMemcpyDtoH", b.d.drv.cuMemcpyDtoH(unsafe.Pointer(&dst[0]), src, uint64(len(dst))))
}

func (b *cudaBackend) memset(dst uint64, v byte, n uint64) error {
	return b.d.drv.check("cuMemsetD8", b.d.drv.cuMemsetD8(dst, v, n))
}

func (b *cudaBackend) launch(kernel string, grid, block uint32, args ...any) error {
	fn, ok := b.funcs[kernel]
	if !ok {
		return fmt.Errorf("gpuaccel: unknown kernel %q", kernel)
	}
	slots, params, pinner, err := launchParams(args)
	if err != nil {
		return err
	}
	defer pinner.Unpin()
	var p *unsafe.Pointer
	if len(params) > 0 {
		p = &params[0]
	}
	res := b.d.drv.cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, 0, 0, p, nil)
	_ = slots
	return b.d.drv.check("cuLaunchKernel "+kernel, res)
}

func (b *cudaBackend) startTimer() (func() (time.Duration, error), error) {
	drv := b.d.drv
	var start, end uintptr
	if err := drv.check("cuEventCreate", drv.cuEventCreate(&start, 0)); err != nil {
		return nil, err
	}
	if err := drv.check("cuEventCreate", drv.cuEventCreate(&end, 0)); err != nil {
		_ = drv.cuEventDestroy(start)
		return nil, err
	}
	if err := drv.check("cuEventRecord", drv.cuEventRecord(start, 0)); err != nil {
		return nil, err
	}
	return func() (time.Duration, error) {
		defer drv.cuEventDestroy(start)
		defer drv.cuEventDestroy(end)
		if err := drv.check("cuEventRecord", drv.cuEventRecord(end, 0)); err != nil {
			return 0, err
		}
		if err := drv.check("cuEventSynchronize", drv.cuEventSynchronize(end)); err != nil {
			return 0, err
		}
		var ms float32
		if err := drv.check("cuEventElapsedTime", drv.cuEventElapsedTime(&ms, start, end)); err != nil {
			return 0, err
		}
		return time.Duration(float64(ms) * float64(time.Millisecond)), nil
	}, nil
}
