package gpuaccel

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/epsilon-db/epsilon/codecs"
)

// Block is the GPU implementation of codecs.Block, registered for the device
// "gpu". Its streams carry the block codec ID and are byte for byte those
// of the CPU codec, so either path decodes the other's.
var Block codecs.DeviceCodec = blockGPU{}

func init() { codecs.RegisterDevice(Block) }

type blockGPU struct{}

func (blockGPU) ID() codecs.ID    { return codecs.IDBlock }
func (blockGPU) Name() string     { return "block-gpu" }
func (blockGPU) Device() string   { return "gpu" }
func (blockGPU) Available() error { return Available() }

func (blockGPU) AppendEncode(dst, src []byte, p codecs.Params) ([]byte, error) {
	if err := checkEncodable(src, p); err != nil {
		return dst, err
	}
	payloads, _, err := EncodeBatch([]Chunk{{Src: src, Params: p}})
	if err != nil {
		return dst, err
	}
	return append(dst, payloads[0]...), nil
}

func (blockGPU) Decode(dst, payload []byte, p codecs.Params) error {
	_, err := DecodeBatch([]Payload{{Data: payload, Params: p, Dst: dst}})
	return err
}

// gpu is the process-wide engine on the first CUDA device. Calls are
// serialized by mu, and each runs on one locked OS thread with the device's
// context current.
var gpu struct {
	mu   sync.Mutex
	once sync.Once
	eng  *engine
	err  error
}

// Available returns nil when a CUDA device was found and the kernels compiled
// for it, and an error wrapping ErrNoDevice or the compile error otherwise.
// The first call loads the driver and compiles the kernels (or loads them
// from the PTX cache).
func Available() error {
	_, release, err := acquire()
	if err == nil {
		release()
	}
	return err
}

// acquire returns the engine with the device context current on the calling
// OS thread; release undoes that.
func acquire() (*engine, func(), error) {
	if _, err := Probe(); err != nil {
		return nil, nil, err
	}
	gpu.mu.Lock()
	runtime.LockOSThread()
	release := func() {
		runtime.UnlockOSThread()
		gpu.mu.Unlock()
	}
	if err := dev.drv.check("cuCtxSetCurrent", dev.drv.cuCtxSetCurrent(dev.ctx)); err != nil {
		release()
		return nil, nil, err
	}
	gpu.once.Do(func() {
		be, err := newCUDABackend(dev)
		if err != nil {
			gpu.err = fmt.Errorf("gpuaccel: loading the block kernels on %s: %w", dev.info.Name, err)
			return
		}
		gpu.eng = newEngine(be)
	})
	if gpu.err != nil {
		release()
		return nil, nil, gpu.err
	}
	return gpu.eng, release, nil
}

// EncodeBatch encodes every chunk with the block codec on the GPU, in one
// launch of each kernel for the batch, and returns the payloads, byte for
// byte those of codecs.Block. All chunks must have the same dtype.
func EncodeBatch(chunks []Chunk) ([][]byte, Timing, error) {
	e, release, err := acquire()
	if err != nil {
		return nil, Timing{}, err
	}
	defer release()
	return e.encode(chunks)
}

// DecodeBatch decodes every block payload into its destination on the GPU,
// in one launch of each kernel for the batch. All payloads must have the
// same dtype. A malformed payload returns an error wrapping
// codecs.ErrCorrupt.
func DecodeBatch(items []Payload) (Timing, error) {
	e, release, err := acquire()
	if err != nil {
		return Timing{}, err
	}
	defer release()
	return e.decode(items)
}
