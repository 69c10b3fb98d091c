// CUDA kernels of the block codec. The byte format and the arithmetic are
// defined by codecs/block.go; these kernels must write and read exactly those
// bytes. gpuaccel compiles this file with NVRTC at run time, and the tests
// compile it with g++ through emulate.h, so it uses a subset of CUDA C++:
// no shared memory, no barriers, no warp intrinsics, no headers. Every
// kernel body is the work of one thread, and the result does not depend on
// the order in which threads run.
//
// A launch covers a batch of chunks of one dtype. The chunk table gives each
// chunk's place in the input and output buffers and its first block in the
// batch-wide block numbering. One thread handles one block of 32 values.
// Output offsets come from exclusive prefix sums over per-block counts:
// body bytes, mixed exception blocks and verbatim values. A chunk's local
// offset is the batch-wide sum minus the sum at its first block. That
// difference is taken in wrapping 32-bit arithmetic, which is exact because
// no chunk's total reaches 2^32.
//
// Encode: block_analyze -> scan of body, mixed and verb -> block_totals ->
// (the host sizes the payloads) -> block_pack.
// Decode: block_dec_sizes -> scan of body and mixed -> block_totals ->
// (the host checks the totals against the headers) -> block_dec_verbs ->
// scan of verb -> block_totals -> block_decode.

#define BLOCK_LEN 32
#define BLOCK_HEADER_LEN 48
#define BLOCK_VERSION 1
#define MAX_QUANT 1073741823.0
// 1.5 * 2^52: adding and subtracting it rounds to an integer, ties to even.
#define ROUND_MAGIC 6755399441055744.0

// Error codes that kernels record, as (block << 8) | code, with atomicMin so
// that the lowest failing block of a chunk wins.
#define ERR_WIDTH 1
#define ERR_KIND 2
#define ERR_KIND_TAIL 3
#define ERR_EXT 4
#define ERR_FILL_BLOCK 5
#define ERR_MASKS 6
#define ERR_FILL_MASK 7

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

// ChunkDesc is one row of the chunk table, 13 little-endian 8-byte fields;
// gpuaccel/block.go writes it field by field.
struct ChunkDesc {
  u64 src;       // byte offset of the chunk in the input buffer
  u64 dst;       // byte offset of the chunk in the output buffer
  u64 n;         // number of values
  u64 blk0;      // first block in the batch numbering
  double eb;     // absolute bound
  double two_eb; // 2*eb
  double inv;    // 1/(2*eb)
  u64 fill_bits; // bits of the fill value converted to the dtype
  u64 has_fill;  // 1 when the chunk has a fill value
  u64 m;         // mixed exception blocks (encode: set before block_pack)
  u64 v;         // verbatim values
  u64 body;      // total size of the block bodies
  u64 reserved;
};

struct F32 {
  typedef float T;
  typedef u32 U;
  enum { size = 4, dtype = 1 };
  __device__ static T from_bits(U u) { return __uint_as_float(u); }
  __device__ static U to_bits(T x) { return __float_as_uint(x); }
  __device__ static T narrow(double p) { return __double2float_rn(p); }
};

struct F64 {
  typedef double T;
  typedef u64 U;
  enum { size = 8, dtype = 2 };
  __device__ static T from_bits(U u) { return __longlong_as_double((long long)u); }
  __device__ static U to_bits(T x) { return (U)__double_as_longlong(x); }
  __device__ static T narrow(double p) { return p; }
};

// Sections are the offsets of the payload sections from the payload start.
struct Sections {
  u64 nb, desc, kinds, masks, verb, bodies;
};

__device__ static Sections sections(const ChunkDesc& c, int size) {
  Sections s;
  s.nb = (c.n + BLOCK_LEN - 1) / BLOCK_LEN;
  s.desc = BLOCK_HEADER_LEN;
  s.kinds = s.desc + s.nb;
  s.masks = (s.kinds + (s.nb + 3) / 4 + 7) / 8 * 8;
  s.verb = s.masks + 8 * c.m;
  s.bodies = s.verb + (u64)size * c.v;
  return s;
}

// find_chunk returns the chunk that holds block g: the last chunk whose
// blk0 is at most g.
__device__ static u32 find_chunk(const ChunkDesc* chunks, u32 nchunks, u64 g) {
  u32 lo = 0, hi = nchunks;
  while (hi - lo > 1) {
    u32 mid = (lo + hi) / 2;
    if (chunks[mid].blk0 <= g) lo = mid; else hi = mid;
  }
  return lo;
}

__device__ static u64 thread_index() {
  return (u64)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ static u32 zigzag(int d) { return ((u32)d << 1) ^ (u32)(d >> 31); }
__device__ static int unzigzag(u32 z) { return (int)(z >> 1) ^ -(int)(z & 1); }
__device__ static u32 bit_len(u32 x) { return x == 0 ? 0 : 32 - __clz(x); }
__device__ static u32 ctz(u32 x) { return __ffs((int)x) - 1; }

__device__ static u32 ext_class(u32 e) {
  if (e == 0) return 0;
  if (e <= 0xff) return 1;
  if (e <= 0xffff) return 2;
  return 3;
}

__device__ static u32 ext_bytes(u32 cls) { return cls == 3 ? 4 : cls; }

__device__ static u32 load_u32(const u8* p) {
  return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

__device__ static void store_u32(u8* p, u32 v) {
  p[0] = (u8)v; p[1] = (u8)(v >> 8); p[2] = (u8)(v >> 16); p[3] = (u8)(v >> 24);
}

__device__ static void store_u64(u8* p, u64 v) {
  store_u32(p, (u32)v);
  store_u32(p + 4, (u32)(v >> 32));
}

// BlockCode is the analysis of one block: quantized values with the
// placeholders in place, exception masks and the descriptor fields.
struct BlockCode {
  int q[BLOCK_LEN];
  u32 cnt, valid, exc, fillm, verbm, kind;
  u32 w, cls, ext, z0;
};

// analyze quantizes the cnt values at x exactly as blockQuantize and
// blockExceptions in codecs/block.go do, with every floating-point operation
// separately rounded (no fused multiply-add).
template <class F>
__device__ static void analyze(const typename F::U* x, u32 cnt, const ChunkDesc& c, BlockCode& r) {
  typedef typename F::T T;
  const T fill = F::from_bits((typename F::U)c.fill_bits);
  r.cnt = cnt;
  r.valid = cnt == BLOCK_LEN ? 0xffffffffu : (1u << cnt) - 1;
  r.exc = 0;
  for (u32 i = 0; i < BLOCK_LEN; i++) {
    r.q[i] = 0;
    if (i >= cnt) continue;
    T xt = F::from_bits(x[i]);
    double v = (double)xt;
    double qf = __dsub_rn(__dadd_rn(__dmul_rn(v, c.inv), ROUND_MAGIC), ROUND_MAGIC);
    double rt = (double)F::narrow(__dmul_rn(qf, c.two_eb));
    double d = __dsub_rn(v, rt);
    bool ok = d <= c.eb && -d <= c.eb && qf <= MAX_QUANT && qf >= -MAX_QUANT;
    if (ok) r.q[i] = (int)qf; else r.exc |= 1u << i;
    if (c.has_fill && xt == fill) r.exc |= 1u << i;
  }

  r.fillm = 0;
  r.verbm = 0;
  r.kind = 0;
  if (r.exc != 0 || cnt < BLOCK_LEN) {
    u32 good = r.valid & ~r.exc;
    int prev = good != 0 ? r.q[ctz(good)] : 0;
    for (u32 i = 0; i < BLOCK_LEN; i++) {
      if (i >= cnt || (r.exc >> i & 1)) r.q[i] = prev; else prev = r.q[i];
    }
  }
  if (r.exc != 0) {
    for (u32 i = 0; i < cnt; i++) {
      if (!(r.exc >> i & 1)) continue;
      T xt = F::from_bits(x[i]);
      if (c.has_fill && xt == fill && (u64)x[i] == c.fill_bits) r.fillm |= 1u << i;
      else r.verbm |= 1u << i;
    }
    r.kind = r.fillm == r.valid ? 1 : 2;
  }

  u32 orz = 0;
  for (u32 i = 1; i < BLOCK_LEN; i++) orz |= zigzag((int)((u32)r.q[i] - (u32)r.q[i - 1]));
  r.w = bit_len(orz);
  r.z0 = zigzag(r.q[0]);
  r.ext = r.w == 32 ? 0 : r.z0 >> r.w;
  r.cls = ext_class(r.ext);
}

template <class F>
__device__ static void analyze_kernel(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                      u8* desc, u8* kind, u32* body, u32* mixed, u32* verb) {
  u64 g = thread_index();
  if (g >= nblocks) return;
  const ChunkDesc& c = chunks[find_chunk(chunks, nchunks, g)];
  u64 b = g - c.blk0;
  u64 first = b * BLOCK_LEN;
  u32 cnt = c.n - first < BLOCK_LEN ? (u32)(c.n - first) : BLOCK_LEN;
  const typename F::U* x = (const typename F::U*)(in + c.src) + first;
  BlockCode r;
  analyze<F>(x, cnt, c, r);
  desc[g] = (u8)(r.w | r.cls << 6);
  kind[g] = (u8)r.kind;
  body[g] = 4 * r.w + ext_bytes(r.cls);
  mixed[g] = r.kind == 2 ? 1 : 0;
  verb[g] = __popc(r.verbm);
}

extern "C" __global__ void block_analyze_f32(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                             u8* desc, u8* kind, u32* body, u32* mixed, u32* verb) {
  analyze_kernel<F32>(chunks, nchunks, nblocks, in, desc, kind, body, mixed, verb);
}

extern "C" __global__ void block_analyze_f64(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                             u8* desc, u8* kind, u32* body, u32* mixed, u32* verb) {
  analyze_kernel<F64>(chunks, nchunks, nblocks, in, desc, kind, body, mixed, verb);
}

// pack_kernel writes the descriptor, body, mask record and verbatim values of
// block g into its chunk's payload. The thread of every fourth block also
// writes the kinds byte, and the thread of block 0 the header and padding.
template <class F>
__device__ static void pack_kernel(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                   const u8* kind, const u32* body, const u32* mixed, const u32* verb, u8* out) {
  u64 g = thread_index();
  if (g >= nblocks) return;
  const ChunkDesc& c = chunks[find_chunk(chunks, nchunks, g)];
  Sections s = sections(c, F::size);
  u8* p = out + c.dst;
  u64 b = g - c.blk0;
  u64 first = b * BLOCK_LEN;
  u32 cnt = c.n - first < BLOCK_LEN ? (u32)(c.n - first) : BLOCK_LEN;
  const typename F::U* x = (const typename F::U*)(in + c.src) + first;
  BlockCode r;
  analyze<F>(x, cnt, c, r);

  if (b == 0) {
    p[0] = BLOCK_VERSION;
    p[1] = F::dtype;
    p[2] = BLOCK_LEN;
    for (int i = 3; i < 8; i++) p[i] = 0;
    store_u64(p + 8, (u64)__double_as_longlong(c.eb));
    store_u64(p + 16, c.n);
    store_u64(p + 24, c.m);
    store_u64(p + 32, c.v);
    store_u64(p + 40, c.body);
    for (u64 i = s.kinds + (s.nb + 3) / 4; i < s.masks; i++) p[i] = 0;
  }
  p[s.desc + b] = (u8)(r.w | r.cls << 6);
  if (b % 4 == 0) {
    u32 k = 0;
    for (u32 j = 0; j < 4 && b + j < s.nb; j++) k |= (u32)kind[g + j] << (2 * j);
    p[s.kinds + b / 4] = (u8)k;
  }
  if (r.kind == 2) {
    u8* rec = p + s.masks + 8 * (u64)(mixed[g] - mixed[c.blk0]);
    store_u32(rec, r.fillm);
    store_u32(rec + 4, r.verbm);
  }
  if (r.verbm != 0) {
    typename F::U* vo = (typename F::U*)(p + s.verb) + (verb[g] - verb[c.blk0]);
    for (u32 m = r.verbm; m != 0; m &= m - 1) *vo++ = x[ctz(m)];
  }

  u8* o = p + s.bodies + (u32)(body[g] - body[c.blk0]);
  u32 k = ext_bytes(r.cls);
  for (u32 i = 0; i < k; i++) *o++ = (u8)(r.ext >> (8 * i));
  if (r.w == 0) return;
  u64 mask = ((u64)1 << r.w) - 1;
  u64 acc = r.z0 & mask;
  u32 nbits = r.w;
  for (u32 i = 1; i <= BLOCK_LEN; i++) {
    while (nbits >= 8) {
      *o++ = (u8)acc;
      acc >>= 8;
      nbits -= 8;
    }
    if (i == BLOCK_LEN) break;
    acc |= (u64)zigzag((int)((u32)r.q[i] - (u32)r.q[i - 1])) << nbits;
    nbits += r.w;
  }
}

extern "C" __global__ void block_pack_f32(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                          const u8* kind, const u32* body, const u32* mixed, const u32* verb, u8* out) {
  pack_kernel<F32>(chunks, nchunks, nblocks, in, kind, body, mixed, verb, out);
}

extern "C" __global__ void block_pack_f64(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                          const u8* kind, const u32* body, const u32* mixed, const u32* verb, u8* out) {
  pack_kernel<F64>(chunks, nchunks, nblocks, in, kind, body, mixed, verb, out);
}

// block_totals writes, for every chunk, the totals of up to three scanned
// count arrays (a null array gives 0) to totals[3c], totals[3c+1] and
// totals[3c+2]. Each array has nblocks+1 entries after the scan.
extern "C" __global__ void block_totals(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u32* a0,
                                        const u32* a1, const u32* a2, u32* totals) {
  u64 c = thread_index();
  if (c >= nchunks) return;
  u64 lo = chunks[c].blk0;
  u64 hi = c + 1 < nchunks ? chunks[c + 1].blk0 : nblocks;
  totals[3 * c] = a0 ? a0[hi] - a0[lo] : 0;
  totals[3 * c + 1] = a1 ? a1[hi] - a1[lo] : 0;
  totals[3 * c + 2] = a2 ? a2[hi] - a2[lo] : 0;
}

__device__ static void record_error(u64* err, u64 b, u32 code) {
  atomicMin(err, b << 8 | code);
}

// block_dec_sizes checks the descriptor and kind of every block and writes
// its body size and whether it has a mask record.
extern "C" __global__ void block_dec_sizes(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                           u32* body, u32* mixed, u64* err) {
  u64 g = thread_index();
  if (g >= nblocks) return;
  u32 ci = find_chunk(chunks, nchunks, g);
  const ChunkDesc& c = chunks[ci];
  Sections s = sections(c, 1);
  const u8* p = in + c.src;
  u64 b = g - c.blk0;
  u32 d = p[s.desc + b];
  u32 w = d & 63;
  if (w > 32) record_error(err + ci, b, ERR_WIDTH);
  body[g] = 4 * w + ext_bytes(d >> 6);
  u32 kb = p[s.kinds + b / 4];
  u32 k = kb >> (2 * (b % 4)) & 3;
  if (k == 3) record_error(err + ci, b, ERR_KIND);
  mixed[g] = k == 2 ? 1 : 0;
  u32 tail = s.nb % 4;
  if (b == s.nb - 1 && tail != 0 && (kb >> (2 * tail)) != 0) record_error(err + ci, b, ERR_KIND_TAIL);
}

// block_dec_verbs writes the number of verbatim values of every block. It
// runs after the scan of mixed, which has nblocks+1 entries, and after the
// host has checked that the mask records fit the payload.
extern "C" __global__ void block_dec_verbs(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                           const u32* mixed, u32* verb) {
  u64 g = thread_index();
  if (g >= nblocks) return;
  const ChunkDesc& c = chunks[find_chunk(chunks, nchunks, g)];
  verb[g] = 0;
  if (mixed[g + 1] == mixed[g]) return;
  Sections s = sections(c, 1);
  const u8* rec = in + c.src + s.masks + 8 * (u64)(mixed[g] - mixed[c.blk0]);
  verb[g] = __popc(load_u32(rec + 4));
}

// decode_kernel reconstructs block g exactly as blockDecode in
// codecs/block.go does. It runs after the host has checked every section
// size, so all reads stay inside the payload.
template <class F>
__device__ static void decode_kernel(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                     const u32* body, const u32* mixed, const u32* verb, u8* out, u64* err) {
  typedef typename F::U U;
  u64 g = thread_index();
  if (g >= nblocks) return;
  u32 ci = find_chunk(chunks, nchunks, g);
  const ChunkDesc& c = chunks[ci];
  Sections s = sections(c, F::size);
  const u8* p = in + c.src;
  u64 b = g - c.blk0;
  u64 first = b * BLOCK_LEN;
  u32 cnt = c.n - first < BLOCK_LEN ? (u32)(c.n - first) : BLOCK_LEN;
  U* o = (U*)(out + c.dst) + first;

  u32 d = p[s.desc + b];
  u32 w = d & 63;
  u32 k = ext_bytes(d >> 6);
  const u8* bp = p + s.bodies + (u32)(body[g] - body[c.blk0]);
  u32 ext = 0;
  for (u32 i = 0; i < k; i++) ext |= (u32)bp[i] << (8 * i);
  bp += k;
  if (w == 0) {
    U r = F::to_bits(F::narrow(__dmul_rn((double)unzigzag(ext), c.two_eb)));
    for (u32 i = 0; i < cnt; i++) o[i] = r;
  } else {
    if (((u64)ext << w) > 0xffffffffull) {
      record_error(err + ci, b, ERR_EXT);
      return;
    }
    u64 mask = ((u64)1 << w) - 1;
    u64 acc = 0;
    u32 nbits = 0;
    int q = 0;
    for (u32 i = 0; i < BLOCK_LEN; i++) {
      while (nbits < w) {
        acc |= (u64)*bp++ << nbits;
        nbits += 8;
      }
      u32 z = (u32)(acc & mask);
      acc >>= w;
      nbits -= w;
      if (i == 0) {
        z |= ext << w;
        q = unzigzag(z);
      } else {
        q = (int)((u32)q + (u32)unzigzag(z));
      }
      if (i < cnt) o[i] = F::to_bits(F::narrow(__dmul_rn((double)q, c.two_eb)));
    }
  }

  u32 kind = p[s.kinds + b / 4] >> (2 * (b % 4)) & 3;
  if (kind == 0) return;
  U fill = (U)c.fill_bits;
  if (kind == 1) {
    if (!c.has_fill) {
      record_error(err + ci, b, ERR_FILL_BLOCK);
      return;
    }
    for (u32 i = 0; i < cnt; i++) o[i] = fill;
    return;
  }
  const u8* rec = p + s.masks + 8 * (u64)(mixed[g] - mixed[c.blk0]);
  u32 fillm = load_u32(rec);
  u32 verbm = load_u32(rec + 4);
  u32 valid = cnt == BLOCK_LEN ? 0xffffffffu : (1u << cnt) - 1;
  if ((fillm & verbm) != 0 || ((fillm | verbm) & ~valid) != 0 || (fillm | verbm) == 0) {
    record_error(err + ci, b, ERR_MASKS);
    return;
  }
  if (fillm != 0 && !c.has_fill) {
    record_error(err + ci, b, ERR_FILL_MASK);
    return;
  }
  for (u32 m = fillm; m != 0; m &= m - 1) o[ctz(m)] = fill;
  const U* vi = (const U*)(p + s.verb) + (verb[g] - verb[c.blk0]);
  for (u32 m = verbm; m != 0; m &= m - 1) o[ctz(m)] = *vi++;
}

extern "C" __global__ void block_decode_f32(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                            const u32* body, const u32* mixed, const u32* verb, u8* out, u64* err) {
  decode_kernel<F32>(chunks, nchunks, nblocks, in, body, mixed, verb, out, err);
}

extern "C" __global__ void block_decode_f64(const ChunkDesc* chunks, u32 nchunks, u64 nblocks, const u8* in,
                                            const u32* body, const u32* mixed, const u32* verb, u8* out, u64* err) {
  decode_kernel<F64>(chunks, nchunks, nblocks, in, body, mixed, verb, out, err);
}

// Exclusive prefix sum over u32 counts in three kernels. scan_reduce sums
// runs of per consecutive entries. The host scans those sums the same way,
// recursively, with scan_serial for the last level. Then scan_apply
// rewrites each run as its exclusive prefix, starting from the run's sum.
//
// NOTE: each scan thread walks its run alone, so a warp's loads are not
// coalesced; a warp-shuffle scan would be faster on a GPU but cannot run
// through emulate.h. Its share of the kernel time is not yet measured.

extern "C" __global__ void scan_reduce(const u32* a, u64 count, u32 per, u32* sums) {
  u64 t = thread_index();
  u64 lo = t * per;
  if (lo >= count) return;
  u64 hi = lo + per < count ? lo + per : count;
  u32 s = 0;
  for (u64 i = lo; i < hi; i++) s += a[i];
  sums[t] = s;
}

extern "C" __global__ void scan_serial(u32* a, u64 count) {
  if (thread_index() != 0) return;
  u32 s = 0;
  for (u64 i = 0; i < count; i++) {
    u32 x = a[i];
    a[i] = s;
    s += x;
  }
}

extern "C" __global__ void scan_apply(u32* a, u64 count, u32 per, const u32* sums) {
  u64 t = thread_index();
  u64 lo = t * per;
  if (lo >= count) return;
  u64 hi = lo + per < count ? lo + per : count;
  u32 s = sums[t];
  for (u64 i = lo; i < hi; i++) {
    u32 x = a[i];
    a[i] = s;
    s += x;
  }
}
