package store

import "fmt"

// BoundPolicy chooses the absolute error bound of each chunk, so that a
// quality target for the whole array (a PSNR, say) can spend error where it
// costs least. Without a policy every chunk uses the array's AbsBound.
//
// ChunkBound receives the raw values of the chunk about to be encoded. A
// bound of 0 stores the chunk losslessly. The stream header of each chunk
// records the bound it was encoded with, which reads and verification use.
type BoundPolicy interface {
	ChunkBound(info *ArrayInfo, coords []int, raw []byte) (float64, error)
}

// SetPolicy installs p for array name, for the writes and imports of this
// DB handle; nil removes it. Policies are not persisted.
func (db *DB) SetPolicy(name string, p BoundPolicy) error {
	if err := validateName(name); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.policies == nil {
		db.mu.policies = map[string]BoundPolicy{}
	}
	if p == nil {
		delete(db.mu.policies, name)
		return nil
	}
	db.mu.policies[name] = p
	return nil
}

func (db *DB) policy(name string) BoundPolicy {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.mu.policies[name]
}

// checkChunkBound validates what a policy returned.
func checkChunkBound(name string, coords []int, b float64) error {
	if b < 0 || b != b || b > 1e308 {
		return fmt.Errorf("array %q chunk %v: bound policy returned %v, allowed are finite bounds of 0 or more", name, coords, b)
	}
	return nil
}
