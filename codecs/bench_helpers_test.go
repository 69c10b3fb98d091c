package codecs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

// benchEncode runs c.AppendEncode over every chunk per iteration and reports
// the compression ratio and the throughput per CPU second.
func benchEncode(b *testing.B, c codecs.Codec, chunks [][]byte, params []codecs.Params, rawBytes int) {
	b.SetBytes(int64(rawBytes))
	var buf []byte
	var payloadBytes int
	ops := 0
	meter := startCPUMeter()
	for b.Loop() {
		payloadBytes = 0
		for i, chunk := range chunks {
			var err error
			buf, err = c.AppendEncode(buf[:0], chunk, params[i])
			if err != nil {
				b.Fatal(err)
			}
			payloadBytes += len(buf)
		}
		ops++
	}
	meter.report(b, int64(rawBytes), ops)
	b.ReportMetric(float64(rawBytes)/float64(payloadBytes), "ratio")
}

// benchDecode encodes every chunk once, then runs c.Decode over all of them
// per iteration and reports the ratio and the throughput per CPU second.
func benchDecode(b *testing.B, c codecs.Codec, chunks [][]byte, params []codecs.Params, rawBytes int) {
	payloads := make([][]byte, len(chunks))
	payloadBytes := 0
	maxChunk := 0
	for i, chunk := range chunks {
		var err error
		payloads[i], err = c.AppendEncode(nil, chunk, params[i])
		require.NoError(b, err)
		payloadBytes += len(payloads[i])
		maxChunk = max(maxChunk, len(chunk))
	}
	dst := make([]byte, maxChunk)
	b.SetBytes(int64(rawBytes))
	ops := 0
	meter := startCPUMeter()
	for b.Loop() {
		for i, payload := range payloads {
			if err := c.Decode(dst[:len(chunks[i])], payload, params[i]); err != nil {
				b.Fatal(err)
			}
		}
		ops++
	}
	meter.report(b, int64(rawBytes), ops)
	b.ReportMetric(float64(rawBytes)/float64(payloadBytes), "ratio")
}
