// Package arrowio will expose arrays and particle datasets as Arrow record
// batches and serve them over Arrow Flight, so Python (pyarrow) reads them
// without copying files.
package arrowio
