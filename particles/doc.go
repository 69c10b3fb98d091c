// Package particles stores particle sets (positions, optional velocities,
// ids and float attributes) in an epsilon store with an absolute error
// bound, such that friends-of-friends (FoF) groups at a chosen linking
// length come back identical for every particle.
//
// # Friends-of-friends
//
// FoF links two particles when their distance is at most the linking
// length, with squared distances computed in float64 from the stored
// values and the minimum image in a periodic box; groups are the connected
// sets. Each group is labelled by its smallest particle index, so labels
// depend only on the partition. Particles are binned in cells of edge just
// below link/sqrt(3) and joined with union-find.
//
// # Correction
//
// Lossy positions can link pairs that were apart and part pairs that were
// linked. Write encodes positions at EncodeBound = Bound*(1-Margin), reads
// them back, and plans a correction: the pairs whose linked status must flip
// for the decoded groups to equal the original groups (every decoded link
// across two original groups, and a minimum set of original links that
// joins the pieces of each split group). On read, the correction moves the
// particles of those pairs by projected gradient steps on the distance
// violations, each coordinate inside [decoded - m, decoded + m] with
// m = Bound - EncodeBound, while every other pair within reach of a moving
// particle keeps its status. Write runs the same steps and stores exactly
// the particles whose pairs stay unmet, then plans again, until the
// simulated result has the original groups. The steps are deterministic,
// so the decoder computes the same positions and the groups are known at
// write time. Every coordinate stays within Bound of the original, compared
// without periodic wrapping.
//
// NOTE: the guarantee rests on the decoder reproducing the encoder's
// floating-point results bit for bit. This package rounds every product
// explicitly; the lorenzo codec's decoder must do the same on every
// platform. Read checks the result and returns store.ErrCorrupt when a
// flagged pair ends with the wrong status.
//
// # Layout, format version 1
//
// A dataset NAME of N particles is these arrays, all 1-D of length N unless
// noted, in stored order (sorted by the 63-bit Morton code of the positions
// over their bounding box, ties by original index) unless noted:
//
//	NAME/x, NAME/y, NAME/z      positions, dtype f32 or f64, abs bound EncodeBound
//	NAME/vx, NAME/vy, NAME/vz   velocities (optional), abs bound VelocityBound or lossless
//	NAME/attr/A                 attribute A (optional), its own bound or lossless
//	NAME/id                     ids, i64, lossless, in original order (optional)
//	NAME/perm                   u32, the original index of each stored particle
//	NAME                        u8, the correction data (below); its attrs hold
//	                            {"particles": Info} as JSON
//
// The entry array NAME is written last. Info.Version is the format version.
//
// The correction data is
//
//	byte      version, 1
//	uvarint   P, the number of flagged pairs
//	P times   uvarint i - i_prev (i_prev starts at 0), uvarint j - i - 1,
//	          pairs (i, j), i < j, in increasing order
//	uvarint   K, the number of exact particles
//	K times   uvarint gap: index = previous index + gap + 1 (previous
//	          starts at -1)
//	K*3 times varint: the original coordinate (x, y, z of each exact
//	          particle in turn) minus the decoded one, counted in steps of
//	          the dtype's representable values
//
// The correction's iteration count and step rule are part of version 1,
// because the encoder simulates them.
package particles
