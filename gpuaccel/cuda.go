package gpuaccel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The CUDA driver API and NVRTC are loaded at run time with purego, so the
// binary needs neither cgo nor the CUDA toolkit to build. Each binding below
// mirrors one C function; the names keep the C spelling.

// cuResult is CUresult; 0 is CUDA_SUCCESS.
type cuResult int32

// driver holds the CUDA driver API entry points from libcuda.so.1.
type driver struct {
	cuInit                   func(flags uint32) cuResult
	cuDriverGetVersion       func(version *int32) cuResult
	cuDeviceGetCount         func(count *int32) cuResult
	cuDeviceGet              func(dev *int32, ordinal int32) cuResult
	cuDeviceGetName          func(name *byte, n int32, dev int32) cuResult
	cuDeviceGetAttribute     func(v *int32, attr int32, dev int32) cuResult
	cuDeviceTotalMem         func(bytes *uint64, dev int32) cuResult
	cuDevicePrimaryCtxRetain func(ctx *uintptr, dev int32) cuResult
	cuCtxSetCurrent          func(ctx uintptr) cuResult
	cuCtxSynchronize         func() cuResult
	cuModuleLoadData         func(mod *uintptr, image unsafe.Pointer) cuResult
	cuModuleGetFunction      func(fn *uintptr, mod uintptr, name *byte) cuResult
	cuMemAlloc               func(ptr *uint64, size uint64) cuResult
	cuMemFree                func(ptr uint64) cuResult
	cuMemAllocHost           func(ptr *unsafe.Pointer, size uint64) cuResult
	cuMemFreeHost            func(ptr unsafe.Pointer) cuResult
	cuMemcpyHtoD             func(dst uint64, src unsafe.Pointer, n uint64) cuResult
	cuMemcpyDtoH             func(dst unsafe.Pointer, src uint64, n uint64) cuResult
	cuMemsetD8               func(dst uint64, v uint8, n uint64) cuResult
	cuLaunchKernel           func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params *unsafe.Pointer, extra *unsafe.Pointer) cuResult
	cuEventCreate            func(ev *uintptr, flags uint32) cuResult
	cuEventRecord            func(ev uintptr, stream uintptr) cuResult
	cuEventSynchronize       func(ev uintptr) cuResult
	cuEventElapsedTime       func(ms *float32, start, end uintptr) cuResult
	cuEventDestroy           func(ev uintptr) cuResult
	cuGetErrorString         func(res cuResult, s **byte) cuResult
}

// nvrtc holds the NVRTC entry points that compile CUDA C++ to PTX.
type nvrtc struct {
	nvrtcCreateProgram     func(prog *uintptr, src *byte, name *byte, numHeaders int32, headers **byte, includeNames **byte) int32
	nvrtcCompileProgram    func(prog uintptr, numOptions int32, options **byte) int32
	nvrtcGetProgramLogSize func(prog uintptr, size *uint64) int32
	nvrtcGetProgramLog     func(prog uintptr, log *byte) int32
	nvrtcGetPTXSize        func(prog uintptr, size *uint64) int32
	nvrtcGetPTX            func(prog uintptr, ptx *byte) int32
	nvrtcDestroyProgram    func(prog *uintptr) int32
}

// Library names tried in order. The driver ships with the NVIDIA driver;
// NVRTC ships with the CUDA toolkit or the nvidia-cuda-nvrtc wheel.
var (
	driverNames = []string{"libcuda.so.1", "libcuda.so"}
	nvrtcNames  = []string{"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"}
)

// ErrNoDevice is returned when no usable CUDA device or library is found.
var ErrNoDevice = errors.New("no CUDA device available")

func openFirst(names []string) (uintptr, string, error) {
	var errs []error
	for _, n := range names {
		h, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return h, n, nil
		}
		errs = append(errs, err)
	}
	return 0, "", errors.Join(errs...)
}

// bindAll resolves every func field of target (a pointer to a struct) by
// its field name in lib. A missing symbol is an error, not a panic.
func bindAll(lib uintptr, fields map[string]any) error {
	for name, fptr := range fields {
		if _, err := purego.Dlsym(lib, name); err != nil {
			return fmt.Errorf("symbol %s: %w", name, err)
		}
		purego.RegisterLibFunc(fptr, lib, name)
	}
	return nil
}

func loadDriver() (*driver, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w: the GPU path is built for linux only", ErrNoDevice)
	}
	lib, _, err := openFirst(driverNames)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDevice, err)
	}
	d := &driver{}
	err = bindAll(lib, map[string]any{
		"cuInit":                   &d.cuInit,
		"cuDriverGetVersion":       &d.cuDriverGetVersion,
		"cuDeviceGetCount":         &d.cuDeviceGetCount,
		"cuDeviceGet":              &d.cuDeviceGet,
		"cuDeviceGetName":          &d.cuDeviceGetName,
		"cuDeviceGetAttribute":     &d.cuDeviceGetAttribute,
		"cuDeviceTotalMem_v2":      &d.cuDeviceTotalMem,
		"cuDevicePrimaryCtxRetain": &d.cuDevicePrimaryCtxRetain,
		"cuCtxSetCurrent":          &d.cuCtxSetCurrent,
		"cuCtxSynchronize":         &d.cuCtxSynchronize,
		"cuModuleLoadData":         &d.cuModuleLoadData,
		"cuModuleGetFunction":      &d.cuModuleGetFunction,
		"cuMemAlloc_v2":            &d.cuMemAlloc,
		"cuMemFree_v2":             &d.cuMemFree,
		"cuMemAllocHost_v2":        &d.cuMemAllocHost,
		"cuMemFreeHost":            &d.cuMemFreeHost,
		"cuMemcpyHtoD_v2":          &d.cuMemcpyHtoD,
		"cuMemcpyDtoH_v2":          &d.cuMemcpyDtoH,
		"cuMemsetD8_v2":            &d.cuMemsetD8,
		"cuLaunchKernel":           &d.cuLaunchKernel,
		"cuEventCreate":            &d.cuEventCreate,
		"cuEventRecord":            &d.cuEventRecord,
		"cuEventSynchronize":       &d.cuEventSynchronize,
		"cuEventElapsedTime_v2":    &d.cuEventElapsedTime,
		"cuEventDestroy_v2":        &d.cuEventDestroy,
		"cuGetErrorString":         &d.cuGetErrorString,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: libcuda: %v", ErrNoDevice, err)
	}
	return d, nil
}

func loadNVRTC() (*nvrtc, error) {
	lib, _, err := openFirst(nvrtcNames)
	if err != nil {
		return nil, fmt.Errorf("%w: NVRTC not found: %v", ErrNoDevice, err)
	}
	n := &nvrtc{}
	err = bindAll(lib, map[string]any{
		"nvrtcCreateProgram":     &n.nvrtcCreateProgram,
		"nvrtcCompileProgram":    &n.nvrtcCompileProgram,
		"nvrtcGetProgramLogSize": &n.nvrtcGetProgramLogSize,
		"nvrtcGetProgramLog":     &n.nvrtcGetProgramLog,
		"nvrtcGetPTXSize":        &n.nvrtcGetPTXSize,
		"nvrtcGetPTX":            &n.nvrtcGetPTX,
		"nvrtcDestroyProgram":    &n.nvrtcDestroyProgram,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: libnvrtc: %v", ErrNoDevice, err)
	}
	return n, nil
}

// check turns a CUresult into an error naming the call.
func (d *driver) check(call string, res cuResult) error {
	if res == 0 {
		return nil
	}
	var s *byte
	msg := "unknown error"
	if d.cuGetErrorString(res, &s) == 0 && s != nil {
		msg = goString(s)
	}
	return fmt.Errorf("gpuaccel: %s failed: CUDA error %d: %s", call, res, msg)
}

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	var n int
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

func cString(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}

// Device attributes used to estimate memory bandwidth
// (CU_DEVICE_ATTRIBUTE_* values from cuda.h).
const (
	attrMemoryClockRate      = 36 // kHz
	attrGlobalMemoryBusWidth = 37 // bits
	attrComputeCapMajor      = 75
	attrComputeCapMinor      = 76
	attrMultiprocessorCount  = 16
)

// Info describes the GPU that the accelerated path uses.
type Info struct {
	Name          string
	ComputeMajor  int
	ComputeMinor  int
	Multiprocs    int
	TotalMemory   uint64
	DriverVersion int
	// PeakBandwidth is the theoretical memory bandwidth in bytes per second,
	// 2 × memory clock × bus width (double data rate).
	PeakBandwidth float64
}

var (
	initOnce sync.Once
	initErr  error
	dev      *device
)

// device is the initialized GPU: the driver, its primary context and the
// compiled kernels.
type device struct {
	drv  *driver
	ctx  uintptr
	id   int32
	info Info
}

// Probe initializes the first CUDA device once and returns its description,
// or an error wrapping ErrNoDevice when there is none. It never panics.
func Probe() (Info, error) {
	initOnce.Do(func() { dev, initErr = openDevice() })
	if initErr != nil {
		return Info{}, initErr
	}
	return dev.info, nil
}

func openDevice() (d *device, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("%w: loading the CUDA driver panicked: %v", ErrNoDevice, r)
		}
	}()
	drv, err := loadDriver()
	if err != nil {
		return nil, err
	}
	if err := drv.check("cuInit", drv.cuInit(0)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDevice, err)
	}
	var count int32
	if err := drv.check("cuDeviceGetCount", drv.cuDeviceGetCount(&count)); err != nil || count == 0 {
		return nil, fmt.Errorf("%w: the driver reports %d devices", ErrNoDevice, count)
	}
	d = &device{drv: drv}
	if err := drv.check("cuDeviceGet", drv.cuDeviceGet(&d.id, 0)); err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	if err := drv.check("cuDeviceGetName", drv.cuDeviceGetName(&name[0], int32(len(name)), d.id)); err != nil {
		return nil, err
	}
	d.info.Name = goString(&name[0])
	attr := func(a int32) int {
		var v int32
		_ = drv.cuDeviceGetAttribute(&v, a, d.id)
		return int(v)
	}
	d.info.ComputeMajor, d.info.ComputeMinor = attr(attrComputeCapMajor), attr(attrComputeCapMinor)
	d.info.Multiprocs = attr(attrMultiprocessorCount)
	d.info.PeakBandwidth = 2 * float64(attr(attrMemoryClockRate)) * 1e3 * float64(attr(attrGlobalMemoryBusWidth)) / 8
	_ = drv.cuDeviceTotalMem(&d.info.TotalMemory, d.id)
	var ver int32
	_ = drv.cuDriverGetVersion(&ver)
	d.info.DriverVersion = int(ver)
	if err := drv.check("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(&d.ctx, d.id)); err != nil {
		return nil, err
	}
	return d, nil
}
