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
// linked. Write encodes positions at Bound, reads them back, and plans a
// correction in rounds. Each round groups the corrected positions; when the
// groups differ from the original ones, it flags the pairs whose linked
// status must flip (every link across two original groups, and a minimum
// set of original links that joins the pieces of each split group) and
// refines a particle of each flagged pair one level towards its original
// position: the first of the pair, on one axis or all three, that alone
// restores the pair's status, or else both particles on all axes. Level l
// (1 to 4) moves a coordinate from its decoded value by a whole number of
// steps of Bound/4^(l-1), so it ends within half a step of the original;
// level 5 stores the original exactly. After 12 rounds, particles of
// flagged pairs go straight to exact. A refined coordinate is within Bound
// of the original, checked at Write, so every coordinate stays within Bound
// of the original, compared without periodic wrapping.
//
// The decoder replaces the listed particles' coordinates with the same
// rounded arithmetic, in time linear in their number, and reproduces the
// positions that Write grouped, so the groups are the original ones.
//
// NOTE: the guarantee rests on the decoder reproducing the encoder's
// floating-point results bit for bit. This package rounds every product
// explicitly; the lorenzo codec's decoder must do the same on every
// platform.
//
// # Order and ids
//
// By default (OrderAuto) a dataset without ids keeps its original order:
// NAME/perm holds the original index of each stored particle, and Read
// returns the original order. A dataset with ids stores them in stored
// order and no permutation, and Read returns the stored order. OrderOriginal
// and OrderStored choose either for any dataset. Info.Ordered tells which
// a dataset has.
//
// # Layout, format version 2
//
// A dataset NAME of N particles is these arrays, all 1-D of length N unless
// noted, in stored order (sorted by the 63-bit Morton code of the positions
// over their bounding box, ties by original index):
//
//	NAME/x, NAME/y, NAME/z      positions, dtype f32 or f64, abs bound Bound
//	NAME/vx, NAME/vy, NAME/vz   velocities (optional), abs bound VelocityBound or lossless
//	NAME/attr/A                 attribute A (optional), its own bound or lossless
//	NAME/id                     u8, the ids (optional) as deltas (below)
//	NAME/perm                   u8, when Info.Ordered: the original index of
//	                            each stored particle as deltas (below)
//	NAME                        u8, the correction data (below); its attrs hold
//	                            {"particles": Info} as JSON
//
// The entry array NAME is written last. Info.Version is the format version.
// The u8 arrays are stored losslessly (zstd).
//
// Deltas are N signed varints (zigzag, as encoding/binary's AppendVarint):
// each value minus the one before, the first minus 0.
//
// The correction data is
//
//	byte      version, 2
//	uvarint   K, the number of corrected particles
//	section   K uvarint gaps: index = previous index + gap + 1 (previous
//	          starts at -1)
//	section   K symbols, one byte per corrected particle: 0 to 26 for
//	          level 1, with the x, y and z step counts symbol/9-1,
//	          symbol/3%3-1 and symbol%3-1, and 25+l for level l of 2 to 5
//	section   the x, y and z step counts of each particle of level 2 to 5
//	          in turn, three signed varints each
//
// A section is uvarint L, its length in bytes, then blocks of up to 65536
// of its bytes, each a mode byte, uvarint P and P payload bytes: mode 0
// holds the bytes as they are, mode 1 a huff0 1X table and stream
// (github.com/klauspost/compress/huff0), mode 2 one byte that fills the
// block.
//
// At level l <= 4, coordinate = decoded + count*(Bound/4^(l-1)), the
// product rounded to float64 on its own and the sum rounded to the dtype,
// with |count| <= 4^(l-1). At level 5, the count is the number of
// representable dtype values from the decoded coordinate to the original
// one.
package particles
