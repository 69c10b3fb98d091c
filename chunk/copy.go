package chunk

// Copy copies a box of shape count from src to dst. src is a C-order buffer
// of shape srcShape and the box starts at srcStart in it; dst is a C-order
// buffer of shape dstShape and the box lands at dstStart. The box must fit
// in both buffers; Copy panics otherwise, as slice indexing does.
//
// Trailing dimensions that are whole in both buffers are merged, so the
// inner loop is one built-in copy per contiguous run.
func Copy[T any](dst []T, dstShape Shape, dstStart []int, src []T, srcShape Shape, srcStart []int, count Shape) {
	n := len(count)
	if n == 0 || count.Count() == 0 {
		return
	}
	dstStrides, srcStrides := strides(dstShape), strides(srcShape)
	dstOff, srcOff := 0, 0
	for i := 0; i < n; i++ {
		dstOff += dstStart[i] * dstStrides[i]
		srcOff += srcStart[i] * srcStrides[i]
	}

	// Merge trailing dimensions while the box covers them whole in both.
	run := count[n-1]
	outer := n - 1
	for outer > 0 && count[outer] == dstShape[outer] && count[outer] == srcShape[outer] {
		outer--
		run *= count[outer]
	}
	// Walk the dimensions before the merged run with an odometer.
	var idx [MaxDims]int
	for {
		copy(dst[dstOff:dstOff+run], src[srcOff:srcOff+run])
		i := outer - 1
		for ; i >= 0; i-- {
			idx[i]++
			dstOff += dstStrides[i]
			srcOff += srcStrides[i]
			if idx[i] < count[i] {
				break
			}
			dstOff -= count[i] * dstStrides[i]
			srcOff -= count[i] * srcStrides[i]
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// Runs calls fn(offset, length) for every contiguous run of a box of shape
// count that starts at start inside a C-order buffer of shape shape. Offsets
// and lengths are in elements and ascend. It serves file I/O, where each run
// is one read or write.
func Runs(shape Shape, start []int, count Shape, fn func(offset, length int) error) error {
	n := len(count)
	if n == 0 || count.Count() == 0 {
		return nil
	}
	st := strides(shape)
	off := 0
	for i := 0; i < n; i++ {
		off += start[i] * st[i]
	}
	run := count[n-1]
	outer := n - 1
	for outer > 0 && count[outer] == shape[outer] {
		outer--
		run *= count[outer]
	}
	var idx [MaxDims]int
	for {
		if err := fn(off, run); err != nil {
			return err
		}
		i := outer - 1
		for ; i >= 0; i-- {
			idx[i]++
			off += st[i]
			if idx[i] < count[i] {
				break
			}
			off -= count[i] * st[i]
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}
