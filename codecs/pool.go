package codecs

import "sync"

var bytePool sync.Pool

// getBytes returns a pooled byte slice of length n.
func getBytes(n int) *[]byte {
	if v, ok := bytePool.Get().(*[]byte); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	b := make([]byte, n)
	return &b
}

func putBytes(b *[]byte) { bytePool.Put(b) }
