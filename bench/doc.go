// Package bench holds benchmark commands that run on the real data set:
// comparisons against standalone compressors and long reliability runs.
// Their results are reported, never asserted by tests.
package bench
