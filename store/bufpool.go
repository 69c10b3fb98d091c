package store

import "math/bits"

// bufferPool is a free list of byte buffers, grouped by size class. Unlike
// a sync.Pool it is never emptied by the garbage collector, so buffers that
// the write-behind pipeline releases are used again instead of becoming
// garbage, and it holds no more bytes than its owner allows. The owner
// serializes calls.
type bufferPool struct {
	// free maps a size class to buffers of exactly that capacity.
	free map[int][][]byte
	// bytes is the capacity of all free buffers.
	bytes int64
}

// bufClass returns the capacity of the buffer that holds n bytes: n rounded
// up to a quarter of the power of two below it, so a buffer wastes at most
// a fifth of its capacity and a few classes cover the chunk and stream
// sizes of an array.
func bufClass(n int) int {
	if n <= 64 {
		return 64
	}
	step := 1 << (bits.Len(uint(n)) - 1) / 4
	return (n + step - 1) / step * step
}

// get returns a buffer of length n and capacity bufClass(n). On a miss it
// allocates one, and first drops free buffers of other classes until the
// free bytes fit in room, so that the free list shrinks when the sizes in
// use change.
func (p *bufferPool) get(n int, room int64) []byte {
	class := bufClass(n)
	if list := p.free[class]; len(list) > 0 {
		b := list[len(list)-1]
		list[len(list)-1] = nil
		p.free[class] = list[:len(list)-1]
		p.bytes -= int64(class)
		return b[:n]
	}
	for c, list := range p.free {
		for p.bytes > room && len(list) > 0 {
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			p.bytes -= int64(c)
		}
		p.free[c] = list
	}
	return make([]byte, n, class)
}

// put adds b to the free list when its capacity fits in room next to the
// free buffers, and otherwise leaves it to the garbage collector. A buffer
// whose capacity is not a size class, not made by get, is never kept.
func (p *bufferPool) put(b []byte, room int64) {
	c := cap(b)
	if c != bufClass(c) || p.bytes+int64(c) > room {
		return
	}
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	p.free[c] = append(p.free[c], b[:0])
	p.bytes += int64(c)
}

// reset drops every free buffer.
func (p *bufferPool) reset() {
	p.free, p.bytes = nil, 0
}
