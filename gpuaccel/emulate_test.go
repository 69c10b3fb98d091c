package gpuaccel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"
)

// emuBackend runs the kernels of block.cu on the CPU through
// kernels/emulate.cpp, built with g++ into a shared library and loaded with
// purego. Device addresses are host addresses from the library's calloc.
type emuBackend struct {
	alloc_  func(n uint64) uint64
	free_   func(ptr uint64)
	htod_   func(dst uint64, src unsafe.Pointer, n uint64)
	dtoh_   func(dst unsafe.Pointer, src uint64, n uint64)
	memset_ func(dst uint64, v uint32, n uint64)
	launch_ func(name *byte, grid, block uint32, params *unsafe.Pointer) int32
}

var (
	emuOnce sync.Once
	emu     *emuBackend
	emuErr  error
)

// emulatedBackend builds the emulation library once per test binary, or
// skips the test when g++ is not on the PATH.
func emulatedBackend(t *testing.T) *emuBackend {
	t.Helper()
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not found on the PATH: the emulated kernel tests need it to build kernels/emulate.cpp")
	}
	emuOnce.Do(func() { emu, emuErr = buildEmulation(gxx) })
	if emuErr != nil {
		t.Fatal(emuErr)
	}
	return emu
}

func buildEmulation(gxx string) (*emuBackend, error) {
	dir, err := os.MkdirTemp("", "epsilon-blockemu")
	if err != nil {
		return nil, err
	}
	lib := filepath.Join(dir, "libblockemu.so")
	cmd := exec.Command(gxx, "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
		"-fPIC", "-shared", "-o", lib, "kernels/emulate.cpp")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the kernel emulation: %v\n%s", err, out)
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", lib, err)
	}
	e := &emuBackend{}
	purego.RegisterLibFunc(&e.alloc_, h, "emu_alloc")
	purego.RegisterLibFunc(&e.free_, h, "emu_free")
	purego.RegisterLibFunc(&e.htod_, h, "emu_htod")
	purego.RegisterLibFunc(&e.dtoh_, h, "emu_dtoh")
	purego.RegisterLibFunc(&e.memset_, h, "emu_memset")
	purego.RegisterLibFunc(&e.launch_, h, "emu_launch")
	return e, nil
}

func (e *emuBackend) alloc(n uint64) (uint64, error) {
	p := e.alloc_(n)
	if p == 0 {
		return 0, fmt.Errorf("emulation: calloc of %d bytes failed", n)
	}
	return p, nil
}

func (e *emuBackend) free(ptr uint64)                 { e.free_(ptr) }
func (e *emuBackend) hostAlloc(n int) ([]byte, error) { return make([]byte, n), nil }
func (e *emuBackend) hostFree([]byte)                 {}

func (e *emuBackend) htod(dst uint64, src []byte) error {
	if len(src) > 0 {
		e.htod_(dst, unsafe.Pointer(&src[0]), uint64(len(src)))
	}
	return nil
}

func (e *emuBackend) dtoh(dst []byte, src uint64) error {
	if len(dst) > 0 {
		e.dtoh_(unsafe.Pointer(&dst[0]), src, uint64(len(dst)))
	}
	return nil
}

func (e *emuBackend) memset(dst uint64, v byte, n uint64) error {
	e.memset_(dst, uint32(v), n)
	return nil
}

func (e *emuBackend) launch(kernel string, grid, block uint32, args ...any) error {
	slots, params, pinner, err := launchParams(args)
	if err != nil {
		return err
	}
	defer pinner.Unpin()
	name := append([]byte(kernel), 0)
	var p *unsafe.Pointer
	if len(params) > 0 {
		p = &params[0]
	}
	if e.launch_(&name[0], grid, block, p) != 0 {
		return fmt.Errorf("emulation: unknown kernel %q", kernel)
	}
	_ = slots
	return nil
}

func (e *emuBackend) startTimer() (func() (time.Duration, error), error) {
	start := time.Now()
	return func() (time.Duration, error) { return time.Since(start), nil }, nil
}
