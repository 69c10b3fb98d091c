package gpuaccel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// nvrtcOptions returns the NVRTC options for a device of compute capability
// major.minor. Fused multiply-add and flush-to-zero are off, so that every
// floating-point operation rounds as the CPU codec's does.
func nvrtcOptions(major, minor int) []string {
	return []string{
		fmt.Sprintf("--gpu-architecture=compute_%d%d", major, minor),
		"--fmad=false",
		"--ftz=false",
		"--prec-div=true",
		"--prec-sqrt=true",
	}
}

// ptxCachePath returns the cache file for the PTX of src compiled with opts,
// under os.UserCacheDir()/epsilon/ptx, named by a SHA-256 of both.
func ptxCachePath(src string, opts []string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(src))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(opts, "\x00")))
	return filepath.Join(dir, "epsilon", "ptx", hex.EncodeToString(h.Sum(nil))[:32]+".ptx"), nil
}

// loadPTX returns the PTX of src for opts: from the cache when present,
// otherwise compiled with NVRTC and written to the cache. A cache that
// cannot be written is skipped.
func loadPTX(src string, opts []string) ([]byte, error) {
	path, cacheErr := ptxCachePath(src, opts)
	if cacheErr == nil {
		if ptx, err := os.ReadFile(path); err == nil && len(ptx) > 0 {
			return ptx, nil
		}
	}
	nv, err := loadNVRTC()
	if err != nil {
		return nil, err
	}
	ptx, err := nv.compile(src, "block.cu", opts)
	if err != nil {
		return nil, err
	}
	if cacheErr == nil {
		writeCache(path, ptx)
	}
	return ptx, nil
}

// writeCache writes data to path through a temporary file and a rename, so
// that a concurrent reader never sees a partial file. Errors are ignored,
// because the cache only saves compile time.
func writeCache(path string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "ptx-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// compile compiles src to PTX and returns it with its terminating NUL, as
// cuModuleLoadData expects.
func (nv *nvrtc) compile(src, name string, opts []string) ([]byte, error) {
	var prog uintptr
	if res := nv.nvrtcCreateProgram(&prog, cString(src), cString(name), 0, nil, nil); res != 0 {
		return nil, fmt.Errorf("gpuaccel: nvrtcCreateProgram failed with NVRTC error %d", res)
	}
	defer nv.nvrtcDestroyProgram(&prog)
	cOpts := make([]*byte, len(opts))
	for i, o := range opts {
		cOpts[i] = cString(o)
	}
	if res := nv.nvrtcCompileProgram(prog, int32(len(cOpts)), &cOpts[0]); res != 0 {
		var n uint64
		log := ""
		if nv.nvrtcGetProgramLogSize(prog, &n) == 0 && n > 1 {
			buf := make([]byte, n)
			if nv.nvrtcGetProgramLog(prog, &buf[0]) == 0 {
				log = string(buf[:n-1])
			}
		}
		return nil, fmt.Errorf("gpuaccel: compiling %s with NVRTC (options %v) failed with error %d:\n%s", name, opts, res, log)
	}
	var n uint64
	if res := nv.nvrtcGetPTXSize(prog, &n); res != 0 || n == 0 {
		return nil, fmt.Errorf("gpuaccel: nvrtcGetPTXSize failed with NVRTC error %d", res)
	}
	ptx := make([]byte, n)
	if res := nv.nvrtcGetPTX(prog, &ptx[0]); res != 0 {
		return nil, fmt.Errorf("gpuaccel: nvrtcGetPTX failed with NVRTC error %d", res)
	}
	return ptx, nil
}
