package codecs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

func BenchmarkLosslessEncode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	b.SetBytes(int64(rawBytes))
	var buf []byte
	var payloadBytes int
	for b.Loop() {
		payloadBytes = 0
		for i, c := range chunks {
			var err error
			buf, err = codecs.Lossless.AppendEncode(buf[:0], c, params[i])
			if err != nil {
				b.Fatal(err)
			}
			payloadBytes += len(buf)
		}
	}
	b.ReportMetric(float64(rawBytes)/float64(payloadBytes), "ratio")
}

func BenchmarkLosslessDecode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	payloads := make([][]byte, len(chunks))
	payloadBytes := 0
	for i, c := range chunks {
		var err error
		payloads[i], err = codecs.Lossless.AppendEncode(nil, c, params[i])
		require.NoError(b, err)
		payloadBytes += len(payloads[i])
	}
	dst := make([]byte, len(chunks[0]))
	b.SetBytes(int64(rawBytes))
	for b.Loop() {
		for i, pl := range payloads {
			if err := codecs.Lossless.Decode(dst[:len(chunks[i])], pl, params[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rawBytes)/float64(payloadBytes), "ratio")
}
