package codecs_test

import (
	"testing"

	"github.com/epsilon-db/epsilon/codecs"
)

func BenchmarkLosslessEncode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchEncode(b, codecs.Lossless, chunks, params, rawBytes)
}

func BenchmarkLosslessDecode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchDecode(b, codecs.Lossless, chunks, params, rawBytes)
}
