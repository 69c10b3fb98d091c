package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

func TestTileRepeatsField(t *testing.T) {
	raw := make([]byte, 4*10)
	for i := range raw {
		raw[i] = byte(i)
	}
	p := codecs.Params{DType: codecs.Float32, Bound: 1}
	chunks := tile(raw, p, 4*25, 4*7)
	var all []byte
	for _, c := range chunks {
		require.Equal(t, len(c.Src)/4, c.Params.Count())
		all = append(all, c.Src...)
	}
	require.Len(t, chunks, 4)
	require.Len(t, all, 4*25)
	require.True(t, bytes.Equal(all[:40], raw))
	require.True(t, bytes.Equal(all[40:80], raw))
	require.True(t, bytes.Equal(all[80:], raw[:20]))
}
