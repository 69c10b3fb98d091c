package arrowio

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/epsilon-db/epsilon/store"
)

// WriteFile writes the region of l as an Arrow IPC file (the random-access
// format, readable with pyarrow.ipc.open_file) to w, one record batch of at
// most batchBytes per slab, decoding slab by slab.
func WriteFile(ctx context.Context, db *store.DB, l Layout, w io.Writer, batchBytes int64) error {
	schema, err := l.Schema()
	if err != nil {
		return err
	}
	fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema))
	if err != nil {
		return err
	}
	err = StreamRegion(ctx, db, l, batchBytes, func(rec arrow.RecordBatch) error { return fw.Write(rec) })
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteParticlesFile writes particle set name of src as an Arrow IPC file
// to w, in record batches of at most batchBytes, with the group column
// when group is set.
func WriteParticlesFile(ctx context.Context, src ParticleSource, name string, group bool, w io.Writer, batchBytes int64) error {
	sets, err := src.ParticleSets()
	if err != nil {
		return err
	}
	var schema *arrow.Schema
	for _, set := range sets {
		if set.Name == name {
			if schema, err = set.Schema(group); err != nil {
				return err
			}
		}
	}
	if schema == nil {
		return fmt.Errorf("particle set %q: %w", name, store.ErrNotFound)
	}
	fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema))
	if err != nil {
		return err
	}
	err = src.ReadParticles(ctx, name, group, batchBytes, func(p ParticleColumns) error {
		rec, err := ParticleRecord(schema, p)
		if err != nil {
			return err
		}
		defer rec.Release()
		return fw.Write(rec)
	})
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return err
}
