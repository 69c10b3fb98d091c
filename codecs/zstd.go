package codecs

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The zstd encoder and decoder are shared: EncodeAll and DecodeAll are safe
// for concurrent use, and each call runs on the calling goroutine.
var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	// zstdSmallDec decodes frames without a content size, which the
	// encoder writes only for inputs under 256 bytes, with a small memory
	// cap.
	zstdSmallDec *zstd.Decoder
)

const smallFrameMax = 1 << 16

func zstdCoders() (*zstd.Encoder, *zstd.Decoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		zstdEnc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1),
			zstd.WithZeroFrames(true))
		if err != nil {
			panic(fmt.Sprintf("codecs: zstd encoder: %v", err))
		}
		zstdDec, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxChunkBytes+1<<20))
		if err != nil {
			panic(fmt.Sprintf("codecs: zstd decoder: %v", err))
		}
		zstdSmallDec, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(smallFrameMax))
		if err != nil {
			panic(fmt.Sprintf("codecs: zstd decoder: %v", err))
		}
	})
	return zstdEnc, zstdDec, zstdSmallDec
}

// appendZstd appends a uvarint with len(src) followed by a zstd frame of src.
func appendZstd(dst, src []byte) []byte {
	enc, _, _ := zstdCoders()
	dst = binary.AppendUvarint(dst, uint64(len(src)))
	return enc.EncodeAll(src, dst)
}

// readZstd decodes what appendZstd wrote at the start of src into buf (reused
// when large enough). It returns the decoded bytes and the number of bytes of
// src consumed. maxLen caps the decoded size, so a corrupt length cannot make
// it allocate more than the caller expects.
func readZstd(buf, src []byte, maxLen int) ([]byte, int, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 {
		return nil, 0, corruptf("zstd section: bad length prefix")
	}
	if n > uint64(maxLen) {
		return nil, 0, corruptf("zstd section claims %d bytes, at most %d expected", n, maxLen)
	}
	var hdr zstd.Header
	if err := hdr.Decode(src[k:]); err != nil {
		return nil, 0, corruptf("zstd section: %v", err)
	}
	_, dec, small := zstdCoders()
	switch {
	case hdr.HasFCS && hdr.FrameContentSize != n:
		return nil, 0, corruptf("zstd frame content size %d does not match section length %d", hdr.FrameContentSize, n)
	case !hdr.HasFCS && n >= smallFrameMax:
		return nil, 0, corruptf("zstd frame of %d bytes has no content size", n)
	case !hdr.HasFCS:
		dec = small
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	out, err := dec.DecodeAll(src[k:], buf[:0])
	if err != nil {
		return nil, 0, corruptf("zstd section: %v", err)
	}
	if uint64(len(out)) != n {
		return nil, 0, corruptf("zstd section decoded to %d bytes, expected %d", len(out), n)
	}
	return out, len(src), nil
}
