package arrowio

import (
	"context"
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
