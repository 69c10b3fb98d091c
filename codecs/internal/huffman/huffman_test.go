package huffman

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func roundTrip(t *testing.T, syms []uint16) []byte {
	t.Helper()
	block, err := AppendEncode([]byte{0xAA}, syms)
	require.NoError(t, err)
	require.Equal(t, byte(0xAA), block[0], "AppendEncode must keep the prefix of dst")
	block = append(block[1:], 0xBB) // a trailing byte Decode must not consume

	got := make([]uint16, len(syms))
	n, err := Decode(got, block)
	require.NoError(t, err)
	require.Equal(t, len(block)-1, n, "bytes consumed")
	require.Equal(t, syms, got)
	return block[:n]
}

func TestRoundTripDistributions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(i int) uint16{
		"uniform_all":  func(int) uint16 { return uint16(rng.IntN(MaxSymbols)) },
		"uniform_300":  func(int) uint16 { return uint16(1000 + rng.IntN(300)) },
		"geometric":    func(int) uint16 { return uint16(32768 + int(rng.NormFloat64()*3)) },
		"very_skewed":  func(int) uint16 { return uint16(min(rng.ExpFloat64()*0.3, 65535)) },
		"two_symbols":  func(i int) uint16 { return uint16(i%2) * 65535 },
		"single_value": func(int) uint16 { return 777 },
		"ascending":    func(i int) uint16 { return uint16(i) },
	}
	for name, gen := range cases {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 7, 8, 9, 100, 4096, 100_003} {
				syms := make([]uint16, n)
				for i := range syms {
					syms[i] = gen(i)
				}
				roundTrip(t, syms)
			}
		})
	}
}

func TestRoundTripEmpty(t *testing.T) {
	block := roundTrip(t, []uint16{})
	require.Equal(t, []byte{0, 0}, block, "empty block is a zero symbol count and a zero stream length")
}

func TestSingleSymbolOneBitEach(t *testing.T) {
	syms := make([]uint16, 80)
	for i := range syms {
		syms[i] = 40000
	}
	block := roundTrip(t, syms)
	// nsym, symbol (3-byte uvarint), length, stream length, 10 zero bytes.
	require.Len(t, block, 1+3+1+1+10)
	require.Equal(t, byte(1), block[4], "code length of the single symbol")
}

// fibonacciSymbols returns symbols whose frequencies follow the Fibonacci
// sequence, which gives an unrestricted Huffman code of depth nsym-1.
func fibonacciSymbols(nsym int) []uint16 {
	var syms []uint16
	a, b := 1, 1
	for s := range nsym {
		for range a {
			syms = append(syms, uint16(s))
		}
		a, b = b, a+b
	}
	return syms
}

func TestLengthLimit(t *testing.T) {
	syms := fibonacciSymbols(30) // unrestricted depth 29
	e := encoderPool.Get().(*encoder)
	defer encoderPool.Put(e)
	for _, s := range syms {
		e.freq[s]++
	}
	e.used = e.used[:0]
	for s := range 30 {
		e.used = append(e.used, uint16(s))
	}
	e.buildLengths()
	var kraft uint64
	maxLen := uint8(0)
	for _, l := range e.lens {
		require.GreaterOrEqual(t, l, uint8(1))
		kraft += 1 << (MaxCodeLen - l)
		maxLen = max(maxLen, l)
	}
	for _, s := range e.used {
		e.freq[s] = 0
	}
	require.Equal(t, uint8(MaxCodeLen), maxLen, "longest code is clamped to MaxCodeLen")
	require.Equal(t, uint64(1)<<MaxCodeLen, kraft, "limited code must stay complete")
	// The most frequent symbol keeps the shortest code.
	require.Equal(t, uint8(1), e.lens[29])

	roundTrip(t, syms)
}

func TestMinimumRedundancy(t *testing.T) {
	a := []uint64{1, 1, 2, 3, 5, 8}
	minimumRedundancy(a)
	require.Equal(t, []uint64{5, 5, 4, 3, 2, 1}, a)

	b := []uint64{10, 10, 10, 10}
	minimumRedundancy(b)
	require.Equal(t, []uint64{2, 2, 2, 2}, b)
}

// table builds a serialized table for the given symbols and code lengths,
// followed by an empty bitstream.
func table(syms []int, lens []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(syms)))
	for i, s := range syms {
		if i == 0 {
			b = binary.AppendUvarint(b, uint64(s))
		} else {
			b = binary.AppendUvarint(b, uint64(s-syms[i-1]-1))
		}
	}
	b = append(b, lens...)
	return binary.AppendUvarint(b, 0)
}

func TestTableValid(t *testing.T) {
	_, err := Decode(nil, table([]int{1, 2, 3}, []byte{1, 2, 2}))
	require.NoError(t, err)
}

func TestTableRejects(t *testing.T) {
	cases := map[string][]byte{
		"over_subscribed":   table([]int{1, 2, 3}, []byte{1, 1, 2}),
		"incomplete":        table([]int{1, 2, 3}, []byte{2, 2, 2}),
		"length_zero":       table([]int{1, 2}, []byte{0, 1}),
		"length_over_limit": table([]int{1, 2}, []byte{1, MaxCodeLen + 1}),
		"single_length_2":   table([]int{5}, []byte{2}),
		"symbol_too_large":  table([]int{65535, 65536}, []byte{1, 1}),
		"first_too_large":   table([]int{70000}, []byte{1}),
		"too_many_symbols":  binary.AppendUvarint(nil, MaxSymbols+1),
		"truncated_lengths": table([]int{1, 2, 3}, []byte{1, 2, 2})[:5],
		"empty_input":       {},
		"bad_uvarint":       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for name, block := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(make([]uint16, 1), block)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

func TestTableRejectsDuplicate(t *testing.T) {
	// Gaps are stored minus one, so a repeated symbol cannot be written;
	// the nearest thing is a wrapped gap, which must be rejected.
	b := binary.AppendUvarint(nil, 2)
	b = binary.AppendUvarint(b, 5)
	b = binary.AppendUvarint(b, 1<<64-1)
	b = append(b, 1, 1, 0)
	_, err := Decode(make([]uint16, 1), b)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestDecodeRejectsBadStreams(t *testing.T) {
	syms := make([]uint16, 1000)
	for i := range syms {
		syms[i] = uint16(i % 37)
	}
	good, err := AppendEncode(nil, syms)
	require.NoError(t, err)

	t.Run("too_many_symbols", func(t *testing.T) {
		_, err := Decode(make([]uint16, len(syms)+50), good)
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("too_few_symbols", func(t *testing.T) {
		_, err := Decode(make([]uint16, len(syms)-50), good)
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("truncated", func(t *testing.T) {
		for cut := 0; cut < len(good); cut += 7 {
			_, err := Decode(make([]uint16, len(syms)), good[:cut])
			require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
		}
	})
	t.Run("empty_table_with_symbols", func(t *testing.T) {
		_, err := Decode(make([]uint16, 1), []byte{0, 0})
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("single_symbol_code_one", func(t *testing.T) {
		// One symbol with code "0"; the stream byte 0x80 starts with "1".
		b := table([]int{9}, []byte{1})
		b = append(b[:len(b)-1], 1, 0x80)
		_, err := Decode(make([]uint16, 1), b)
		require.ErrorIs(t, err, ErrCorrupt)
	})
}

func FuzzHuffmanDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 64, 300} {
		syms := make([]uint16, n)
		for i := range syms {
			syms[i] = uint16(32768 + int(rng.NormFloat64()*20))
		}
		block, err := AppendEncode(nil, syms)
		require.NoError(f, err)
		f.Add(block, uint16(n))
		if len(block) > 3 {
			f.Add(block[:len(block)/2], uint16(n))
			flipped := append([]byte(nil), block...)
			flipped[len(flipped)/2] ^= 0x10
			f.Add(flipped, uint16(n))
		}
	}
	f.Add(fibonacciBlock(f), uint16(4000))
	f.Fuzz(func(t *testing.T, block []byte, n uint16) {
		dst := make([]uint16, n)
		used, err := Decode(dst, block)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		require.LessOrEqual(t, used, len(block))
		// A block that decodes must re-encode to a block that decodes to
		// the same symbols.
		again, err := AppendEncode(nil, dst)
		require.NoError(t, err)
		got := make([]uint16, n)
		_, err = Decode(got, again)
		require.NoError(t, err)
		require.Equal(t, dst, got)
	})
}

func fibonacciBlock(tb testing.TB) []byte {
	syms := fibonacciSymbols(19)
	block, err := AppendEncode(nil, syms[:4000])
	require.NoError(tb, err)
	return block
}

func BenchmarkEncode(b *testing.B) {
	syms := benchSymbols()
	b.SetBytes(int64(2 * len(syms)))
	var buf []byte
	for b.Loop() {
		buf, _ = AppendEncode(buf[:0], syms)
	}
}

func BenchmarkDecode(b *testing.B) {
	syms := benchSymbols()
	block, err := AppendEncode(nil, syms)
	require.NoError(b, err)
	dst := make([]uint16, len(syms))
	b.SetBytes(int64(2 * len(syms)))
	for b.Loop() {
		if _, err := Decode(dst, block); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSymbols() []uint16 {
	rng := rand.New(rand.NewPCG(5, 6))
	syms := make([]uint16, 1<<18)
	for i := range syms {
		syms[i] = uint16(32768 + int(rng.NormFloat64()*8))
	}
	return syms
}

// referenceBits writes the codes of syms one bit at a time, MSB first, and
// zero-pads the last byte: the definition the pairwise writer must match.
func referenceBits(codes *[MaxSymbols]uint32, syms []uint16) []byte {
	var out []byte
	nbits := 0
	for _, s := range syms {
		c := codes[s]
		l := int(c & 0xff)
		for b := l - 1; b >= 0; b-- {
			if nbits%8 == 0 {
				out = append(out, 0)
			}
			out[len(out)-1] |= byte((c>>8)>>b&1) << (7 - nbits%8)
			nbits++
		}
	}
	return out
}

func TestWriteBitsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := map[string][]uint16{"fibonacci": fibonacciSymbols(30)}
	for _, n := range []int{1, 2, 3, 5, 1000, 1001} {
		syms := make([]uint16, n)
		for i := range syms {
			syms[i] = uint16(32768 + int(rng.NormFloat64()*40))
		}
		inputs[fmt.Sprint("normal_", n)] = syms
	}
	for name, syms := range inputs {
		e := encoderPool.Get().(*encoder)
		for _, s := range syms {
			e.freq[s]++
		}
		e.used = e.used[:0]
		for s := range e.freq {
			if e.freq[s] != 0 {
				e.used = append(e.used, uint16(s))
			}
		}
		e.buildLengths()
		e.assignCodes()
		for _, s := range e.used {
			e.freq[s] = 0
		}
		want := referenceBits(&e.codes, syms)
		got := e.writeBits([]byte{0xAA}, syms, len(want))
		encoderPool.Put(e)
		require.Equal(t, byte(0xAA), got[0], name)
		require.Equal(t, want, got[1:], name)
	}
}
