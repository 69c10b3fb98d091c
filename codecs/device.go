package codecs

import (
	"fmt"
	"sort"
)

// DeviceCodec is an implementation of a registered codec that runs on an
// accelerator. It has the ID of the codec it implements and writes that
// codec's payloads byte for byte, so streams carry the same codec ID and
// either implementation decodes the other's. Packages that provide one
// register it with RegisterDevice from their own init; this package never
// imports them.
type DeviceCodec interface {
	Codec
	// Device names the accelerator, such as "gpu".
	Device() string
	// Available returns nil when the device can run the codec, and the
	// reason otherwise.
	Available() error
}

var devices struct {
	byKey map[deviceKey]DeviceCodec
}

type deviceKey struct {
	device string
	id     ID
}

// RegisterDevice adds c as the implementation of the codec with ID c.ID() on
// device c.Device(). It panics when no codec with that ID is registered or
// when the device already has one for the ID, because those are programming
// errors found at start-up. ByName and ByID keep returning CPU codecs only,
// so the catalog of a store never names a device: the device is a run-time
// choice (ForDevice, DecodeOn).
func RegisterDevice(c DeviceCodec) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.byID[c.ID()]; !ok {
		panic(fmt.Sprintf("codecs: device codec %q implements ID %d, which no codec has", c.Name(), c.ID()))
	}
	key := deviceKey{c.Device(), c.ID()}
	if devices.byKey == nil {
		devices.byKey = map[deviceKey]DeviceCodec{}
	}
	if old, ok := devices.byKey[key]; ok {
		panic(fmt.Sprintf("codecs: device %q already has %q for ID %d", key.device, old.Name(), key.id))
	}
	devices.byKey[key] = c
}

// ForDevice returns the codec registered for device with the given ID.
func ForDevice(device string, id ID) (DeviceCodec, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	c, ok := devices.byKey[deviceKey{device, id}]
	return c, ok
}

// DeviceCodecs returns the codecs registered for device, sorted by ID.
func DeviceCodecs(device string) []DeviceCodec {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	var out []DeviceCodec
	for k, c := range devices.byKey {
		if k.device == device {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// DecodeOn is Decode with the payload decoded by the codec registered for
// device when there is one for the stream's codec ID, and by the CPU codec
// otherwise. An error of the device codec that does not wrap ErrCorrupt is
// a device failure, not a bad stream, and is returned as it is.
func DecodeOn(device string, dst, stream []byte) (Header, error) {
	h, payload, err := ParseHeader(stream)
	if err != nil {
		return h, err
	}
	dc, ok := ForDevice(device, h.Codec)
	if !ok || h.Transform != TransformNone {
		// Device codecs decode plain payloads only; mapped payloads
		// (pwrel, temporal residuals) decode on the CPU.
		return h, decodePayload(h, dst, payload, nil)
	}
	p := h.Params()
	if want := p.Count() * h.DType.Size(); len(dst) != want {
		return h, fmt.Errorf("codecs: destination has %d bytes, chunk %v of %s needs %d", len(dst), h.Shape, h.DType, want)
	}
	return h, dc.Decode(dst, payload, p)
}
