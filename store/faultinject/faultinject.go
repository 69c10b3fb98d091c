// Package faultinject corrupts epsilon stores on purpose, for reliability
// tests: it flips bits and bytes in stored chunk values and in Pebble's
// files (sstables, write-ahead log, manifest) and truncates files. Every
// choice comes from a seeded generator, so a seed reproduces its fault.
package faultinject

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/store"
)

// Kind names a kind of fault.
type Kind string

// Fault kinds.
const (
	ValueBitFlip Kind = "value bit flip"
	ValueByte    Kind = "value byte overwrite"
	FileBitFlip  Kind = "file bit flip"
	FileByte     Kind = "file byte overwrite"
	FileTruncate Kind = "file truncation"
)

// The first bytes of chunk and coverage bitmap keys (store/keys.go).
const (
	chunkPrefix    = 0x02
	coveragePrefix = 0x03
)

// Fault records one injected fault.
type Fault struct {
	Kind Kind
	// File is the base name of the file changed, for file faults.
	File string
	// Key is the Pebble key whose value changed, for value faults.
	Key []byte
	// Offset is the byte offset of the change, or the new length of a
	// truncated file.
	Offset int64
	// Bit is the flipped bit (0 to 7); for a byte overwrite, Value is the
	// byte written.
	Bit   int
	Value byte
}

func (f Fault) String() string {
	switch f.Kind {
	case ValueBitFlip:
		return fmt.Sprintf("%s: key %x byte %d bit %d", f.Kind, f.Key, f.Offset, f.Bit)
	case ValueByte:
		return fmt.Sprintf("%s: key %x byte %d = %#02x", f.Kind, f.Key, f.Offset, f.Value)
	case FileBitFlip:
		return fmt.Sprintf("%s: %s byte %d bit %d", f.Kind, f.File, f.Offset, f.Bit)
	case FileByte:
		return fmt.Sprintf("%s: %s byte %d = %#02x", f.Kind, f.File, f.Offset, f.Value)
	default:
		return fmt.Sprintf("%s: %s to %d bytes", f.Kind, f.File, f.Offset)
	}
}

// ErrNoTarget is returned when the store holds nothing of the requested
// kind to corrupt.
var ErrNoTarget = errors.New("faultinject: no target")

// Injector chooses and applies faults from a seeded generator.
type Injector struct {
	rng *rand.Rand
}

// New returns an injector whose choices are fixed by seed.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// CorruptValue flips one bit, or overwrites one byte with a different
// value, in the value of a random chunk or coverage key of the open store,
// and writes it back through Pebble.
func (in *Injector) CorruptValue(db *store.DB) (Fault, error) {
	pdb := db.Pebble()
	it, err := pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{chunkPrefix}, UpperBound: []byte{coveragePrefix + 1}})
	if err != nil {
		return Fault{}, err
	}
	var keys [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	err = errors.Join(it.Error(), it.Close())
	if err != nil {
		return Fault{}, err
	}
	if len(keys) == 0 {
		return Fault{}, ErrNoTarget
	}
	key := keys[in.rng.IntN(len(keys))]
	v, closer, err := pdb.Get(key)
	if err != nil {
		return Fault{}, err
	}
	val := bytes.Clone(v)
	closer.Close()
	if len(val) == 0 {
		return Fault{}, ErrNoTarget
	}
	f := Fault{Key: key, Offset: int64(in.rng.IntN(len(val)))}
	in.damage(val, &f, ValueBitFlip, ValueByte)
	return f, pdb.Set(key, val, pebble.Sync)
}

// damage flips a bit or overwrites a byte of buf at f.Offset.
func (in *Injector) damage(buf []byte, f *Fault, flip, overwrite Kind) {
	if in.rng.IntN(2) == 0 {
		f.Kind, f.Bit = flip, in.rng.IntN(8)
		buf[f.Offset] ^= 1 << f.Bit
		return
	}
	f.Kind = overwrite
	f.Value = byte(in.rng.IntN(255))
	if f.Value >= buf[f.Offset] {
		f.Value++ // never the byte that is already there
	}
	buf[f.Offset] = f.Value
}

// StoreFiles returns the Pebble files of the closed store in dir that hold
// data or its description: sstables (.sst), write-ahead logs (.log) and
// manifests, sorted by name.
func StoreFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".sst") || strings.HasSuffix(n, ".log") || strings.HasPrefix(n, "MANIFEST-")) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CorruptFile flips a bit, overwrites a byte or truncates one of the files
// of the closed store in dir whose base name has one of suffixes (".sst",
// ".log"; "MANIFEST" matches manifests), or any of StoreFiles without
// suffixes.
func (in *Injector) CorruptFile(dir string, suffixes ...string) (Fault, error) {
	files, err := StoreFiles(dir)
	if err != nil {
		return Fault{}, err
	}
	var targets []string
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Size() == 0 {
			continue
		}
		if len(suffixes) == 0 {
			targets = append(targets, f)
			continue
		}
		for _, s := range suffixes {
			if strings.HasSuffix(f, s) || (s == "MANIFEST" && strings.HasPrefix(f, "MANIFEST-")) {
				targets = append(targets, f)
				break
			}
		}
	}
	if len(targets) == 0 {
		return Fault{}, ErrNoTarget
	}
	name := targets[in.rng.IntN(len(targets))]
	path := filepath.Join(dir, name)
	buf, err := os.ReadFile(path)
	if err != nil {
		return Fault{}, err
	}
	f := Fault{File: name}
	if in.rng.IntN(5) == 0 {
		f.Kind = FileTruncate
		f.Offset = int64(in.rng.IntN(len(buf)))
		return f, os.Truncate(path, f.Offset)
	}
	f.Offset = int64(in.rng.IntN(len(buf)))
	in.damage(buf, &f, FileBitFlip, FileByte)
	return f, os.WriteFile(path, buf, 0o644)
}

// CopyDir copies the regular files of src into dst, which it creates, so a
// test can corrupt a fresh copy of one pristine store per fault.
func CopyDir(dst, src string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
