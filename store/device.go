package store

import (
	"errors"
	"fmt"

	"github.com/epsilon-db/epsilon/codecs"
)

// resolveDevice returns the codecs device the store uses for Options.Device:
// "gpu" when a GPU codec is registered and usable, "" for the CPU. For
// DeviceGPU without a usable GPU it returns an error with the reason.
func resolveDevice(device string) (string, error) {
	if device == DeviceCPU {
		return "", nil
	}
	dcs := codecs.DeviceCodecs(DeviceGPU)
	var errs []error
	if len(dcs) == 0 {
		errs = append(errs, errors.New("no GPU codec is registered (import package gpuaccel)"))
	}
	for _, dc := range dcs {
		if err := dc.Available(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dc.Name(), err))
		}
	}
	if len(errs) == 0 {
		return DeviceGPU, nil
	}
	if device == DeviceGPU {
		return "", fmt.Errorf("Options.Device %q: no usable GPU: %w", device, errors.Join(errs...))
	}
	return "", nil
}

// codecFor returns the codec that encodes one chunk: the codec a selector
// picks for it, replaced by its implementation on the store's device when
// there is one.
//
// NOTE: each chunk is encoded in its own GPU launch; gpuaccel.EncodeBatch
// can take many chunks in one launch, but the write pipeline hands chunks
// to codecs one at a time.
func (db *DB) codecFor(c codecs.Codec, raw []byte, p codecs.Params) codecs.Codec {
	if sel, ok := c.(codecs.Selector); ok {
		c = sel.Select(raw, p)
	}
	if db.device == "" {
		return c
	}
	if dc, ok := codecs.ForDevice(db.device, c.ID()); ok {
		return dc
	}
	return c
}
