package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// ErrWriteBehind marks the error of a write-behind call that failed after
// it returned. It is returned by Flush, Close and every later Write and
// Append of the DB, wrapped with the array, the call and the cause.
var ErrWriteBehind = errors.New("write-behind failed")

// writeBehind is the pipeline behind Options.WriteBehind.
//
// Each Write or Append builds one task on the caller's goroutine: it copies
// the caller's values into chunk buffers and hands each chunk to the encoder
// pool (Options.Concurrency goroutines) as soon as it is copied. One
// committer goroutine takes the tasks in call order, waits for their chunks
// and commits each task as one Pebble batch, without syncing the write-ahead
// log. Flush and Close wait for the committer and then sync the log.
//
// Memory: a call reserves the raw size of each chunk before it copies it,
// and blocks while the reserved bytes of all tasks would pass
// Options.MaxPendingBytes. An encoded chunk keeps only its stream's size
// reserved until its task commits. Chunk buffers and streams come from a
// free list (bufferPool) that keeps a released buffer only while the free
// and the reserved bytes together stay under MaxPendingBytes, so in a
// steady run of calls the pipeline allocates few buffers and its buffers
// stay under the cap. See memlimit.go for the garbage that remains.
type writeBehind struct {
	db         *DB
	maxPending int64
	wopts      *pebble.WriteOptions

	// submitMu serializes calls. It is held while a call builds its task, so
	// tasks enter the queue in call order and only the newest task may be
	// unfinished.
	submitMu sync.Mutex
	// arrays holds, per array name, the state as of the last call made,
	// committed or not. Guarded by submitMu.
	arrays map[string]*wbArray
	// closed is set by close. Guarded by submitMu.
	closed bool

	jobs          jobQueue
	queue         chan *wbTask
	workers       sync.WaitGroup
	committerDone chan struct{}

	mu struct {
		sync.Mutex
		// cond is signalled when pending shrinks, committed grows or err is
		// set.
		cond sync.Cond
		// pending is the number of bytes reserved by tasks not yet
		// committed.
		pending int64
		// submitted and committed are the sequence numbers of the last task
		// queued and of the last task the committer finished with.
		submitted, committed uint64
		// err is the first failure; once set, no later task is committed.
		err error
		// free holds the buffers that no task uses.
		free bufferPool
	}
}

// wbArray is the write-behind state of one array.
type wbArray struct {
	// info is the catalog entry after the last call, committed or not.
	info *ArrayInfo
	// staged holds the values and coverage of each chunk that calls wrote
	// only in part, keyed by chunk key, so that the next call that writes
	// into the chunk need not decode it again.
	staged map[string]*stagedChunk
}

// stagedChunk is the latest state of a partly written chunk. Neither raw
// nor cov changes after it is stored, because a job may still be encoding
// raw.
type stagedChunk struct {
	raw []byte
	cov coverage
	// refs counts the holders of raw: the array's staged map and the job
	// that encodes it. The last one to let go returns raw to the free list.
	refs atomic.Int32
}

// wbTask is one Write or Append call.
type wbTask struct {
	seq       uint64
	op        string
	info      *ArrayInfo
	writeInfo bool
	coords    [][]int
	chunks    []encodedChunk
	// unfinished counts one for the call still building the task and one
	// for each chunk being encoded.
	unfinished sync.WaitGroup

	// Guarded by writeBehind.mu.
	reserved int64 // bytes reserved by this task
	encoded  int64 // the part of reserved that encoded streams hold
	err      error
}

// wbJob is one chunk of a task to encode.
type wbJob struct {
	task   *wbTask
	i      int
	shape  chunk.Shape
	raw    []byte
	staged *stagedChunk // the staged chunk that owns raw, or nil when the job does
	cov    coverage     // the coverage bitmap of a staged chunk
}

func newWriteBehind(db *DB) *writeBehind {
	wb := &writeBehind{
		db:            db,
		maxPending:    db.opts.MaxPendingBytes,
		wopts:         pebble.NoSync,
		arrays:        map[string]*wbArray{},
		queue:         make(chan *wbTask, 1024),
		committerDone: make(chan struct{}),
	}
	wb.mu.cond.L = &wb.mu.Mutex
	wb.jobs.cond.L = &wb.jobs.mu
	for range db.opts.Concurrency {
		wb.workers.Add(1)
		go wb.encodeLoop()
	}
	go wb.commitLoop()
	registerMemoryLimit(wb)
	return wb
}

// heldBytes returns the bytes of the buffers the pipeline holds: reserved
// by tasks or free.
func (wb *writeBehind) heldBytes() int64 {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.mu.pending + wb.mu.free.bytes
}

// Flush waits until every Write and Append made before it is committed, and
// syncs the write-ahead log (unless Options.NoSync), so that those calls
// survive a crash. It returns the first write-behind failure, wrapping
// ErrWriteBehind. Without Options.WriteBehind, Flush returns nil at once,
// because every call is durable on return.
func (db *DB) Flush() error {
	if err := db.checkOpen(false); err != nil {
		return err
	}
	if db.wb == nil {
		return nil
	}
	return db.wb.flush()
}

func (wb *writeBehind) flush() error {
	wb.submitMu.Lock()
	defer wb.submitMu.Unlock()
	if wb.closed {
		return ErrClosed
	}
	if err := wb.waitCommitted(wb.lastSubmitted()); err != nil {
		return err
	}
	return wb.syncLog()
}

func (wb *writeBehind) syncLog() error {
	if wb.db.opts.NoSync {
		return nil
	}
	if err := wb.db.pdb.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("sync write-ahead log: %w", err)
	}
	return nil
}

// close waits for every call, stops the goroutines and syncs the log.
func (wb *writeBehind) close() error {
	wb.submitMu.Lock()
	defer wb.submitMu.Unlock()
	if wb.closed {
		return ErrClosed
	}
	wb.closed = true
	close(wb.queue)
	<-wb.committerDone
	wb.jobs.close()
	wb.workers.Wait()
	wb.mu.Lock()
	wb.mu.free.reset()
	wb.mu.Unlock()
	unregisterMemoryLimit(wb)
	if err := wb.failure(); err != nil {
		return err
	}
	return wb.syncLog()
}

// pause waits until every call is committed and holds off new calls until
// resume is called. Delete uses it.
func (wb *writeBehind) pause() (resume func(), err error) {
	wb.submitMu.Lock()
	if wb.closed {
		wb.submitMu.Unlock()
		return nil, ErrClosed
	}
	if err := wb.waitCommitted(wb.lastSubmitted()); err != nil {
		wb.submitMu.Unlock()
		return nil, err
	}
	return wb.submitMu.Unlock, nil
}

// forget drops the state of array name. The caller holds pause.
func (wb *writeBehind) forget(name string) { delete(wb.arrays, name) }

func (wb *writeBehind) failure() error {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.mu.err
}

func (wb *writeBehind) lastSubmitted() uint64 {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.mu.submitted
}

// waitCommitted waits until the committer is done with task seq and every
// task before it, and returns the first failure.
func (wb *writeBehind) waitCommitted(seq uint64) error {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	for wb.mu.committed < seq && wb.mu.err == nil {
		wb.mu.cond.Wait()
	}
	return wb.mu.err
}

// reserve accounts n more bytes to t, waiting while that would pass
// MaxPendingBytes. It waits only while some reserved bytes can still be
// released without t finishing: those of other tasks, or values of t not
// yet encoded. So a call whose encoded chunks alone pass the cap goes on
// past it instead of waiting forever.
func (wb *writeBehind) reserve(t *wbTask, n int64) error {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	for wb.mu.err == nil && wb.mu.pending+n > wb.maxPending && wb.mu.pending > t.encoded {
		wb.mu.cond.Wait()
	}
	if wb.mu.err != nil {
		return wb.mu.err
	}
	wb.mu.pending += n
	t.reserved += n
	return nil
}

// getBuf returns a buffer of n bytes from the free list, or a new one.
func (wb *writeBehind) getBuf(n int) []byte {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.mu.free.get(n, wb.maxPending-wb.mu.pending)
}

// putBufLocked returns b to the free list. The caller holds wb.mu.
func (wb *writeBehind) putBufLocked(b []byte) {
	wb.mu.free.put(b, wb.maxPending-wb.mu.pending)
}

// releaseStaged drops one holder of sc.raw.
func (wb *writeBehind) releaseStaged(sc *stagedChunk) {
	if sc.refs.Add(-1) == 0 {
		wb.mu.Lock()
		wb.putBufLocked(sc.raw)
		wb.mu.Unlock()
	}
}

// dropStaged removes the staged chunk key of st, if any.
func (wb *writeBehind) dropStaged(st *wbArray, key string) {
	if sc, ok := st.staged[key]; ok {
		delete(st.staged, key)
		wb.releaseStaged(sc)
	}
}

// enter starts a call on array name: it checks that the pipeline is open
// and has not failed, and returns the array's state. The caller holds
// submitMu.
func (wb *writeBehind) enter(op, name string) (*wbArray, error) {
	if wb.closed {
		return nil, ErrClosed
	}
	if err := wb.failure(); err != nil {
		return nil, err
	}
	if st, ok := wb.arrays[name]; ok {
		return st, nil
	}
	// No call of this DB has written the array yet, so the catalog is
	// current.
	info, err := getInfo(wb.db.pdb, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	st := &wbArray{info: info, staged: map[string]*stagedChunk{}}
	wb.arrays[name] = st
	return st, nil
}

func (wb *writeBehind) append(name string, shape []int, data any) (chunk.Region, error) {
	wb.submitMu.Lock()
	defer wb.submitMu.Unlock()
	st, err := wb.enter("append", name)
	if err != nil {
		return chunk.Region{}, err
	}
	raw, r, err := checkAppend(st.info, shape, data)
	if err != nil {
		return chunk.Region{}, err
	}
	next := cloneInfo(st.info)
	next.Shape[0] = r.Stop[0]
	if err := wb.submit(st, next, true, "append", r, raw, st.info.Shape[0]); err != nil {
		return chunk.Region{}, err
	}
	return r, nil
}

func (wb *writeBehind) write(name string, r chunk.Region, data any) error {
	wb.submitMu.Lock()
	defer wb.submitMu.Unlock()
	st, err := wb.enter("write", name)
	if err != nil {
		return err
	}
	info := st.info
	raw, err := bytesOf(data, info.DType)
	if err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	if err := validateRegion(r, info.Shape); err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	if want := r.Count() * info.DType.Size(); len(raw) != want {
		return fmt.Errorf("write array %q: buffer has %d bytes, region %v of %s needs %d", name, len(raw), r, info.DType, want)
	}
	return wb.submit(st, cloneInfo(info), false, "write", r, raw, -1)
}

// submit queues a task that writes raw, the values of region r, to the
// array whose catalog entry becomes next, and copies the values into its
// chunks. Chunks that start at or after leading index freshFrom were never
// written (-1: no such index is known). The caller holds submitMu and has
// validated the input.
func (wb *writeBehind) submit(st *wbArray, next *ArrayInfo, writeInfo bool, op string, r chunk.Region, raw []byte, freshFrom int) error {
	if !next.resolved() {
		var vr valueRange
		fill := next.params(nil)
		vr.add(raw, next.DType, fill.HasFill, fill.Fill)
		if vr.ok {
			next.setRange(vr.lo, vr.hi)
			writeInfo = true
		}
	}
	var coords [][]int
	_ = next.Grid().ForEach(r, func(c []int) error {
		coords = append(coords, append([]int(nil), c...))
		return nil
	})
	t := &wbTask{op: op, info: next, writeInfo: writeInfo, coords: coords, chunks: make([]encodedChunk, len(coords))}
	t.unfinished.Add(1)
	wb.mu.Lock()
	wb.mu.submitted++
	t.seq = wb.mu.submitted
	wb.mu.Unlock()
	wb.queue <- t
	st.info = next

	err := wb.fill(t, st, r, raw, freshFrom)
	if err != nil {
		wb.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		wb.mu.Unlock()
	}
	t.unfinished.Done()
	return err
}

// fill copies the values of each chunk of t into a buffer of its own and
// sends the chunk to the encoders.
func (wb *writeBehind) fill(t *wbTask, st *wbArray, r chunk.Region, raw []byte, freshFrom int) error {
	info := t.info
	grid := info.Grid()
	size := info.DType.Size()
	for i, c := range t.coords {
		region := grid.ChunkRegion(c)
		inter, _ := region.Intersect(r)
		n := region.Count() * size
		if err := wb.reserve(t, int64(bufClass(n))); err != nil {
			return err
		}
		key := string(appendChunkKey(nil, info.ID, c))
		job := wbJob{task: t, i: i, shape: region.Shape()}
		if inter.Equal(region) {
			job.raw = wb.getBuf(n)
			copyValues(job.raw, region.Shape(), make([]int, len(c)), raw, r.Shape(), offsetIn(inter, r), inter.Shape(), size)
			wb.dropStaged(st, key)
		} else {
			buf := wb.getBuf(n)
			cov, err := wb.loadPartial(t, st, key, c, region, buf, freshFrom)
			if err != nil {
				wb.mu.Lock()
				wb.putBufLocked(buf)
				wb.mu.Unlock()
				return err
			}
			copyValues(buf, region.Shape(), offsetIn(inter, region), raw, r.Shape(), offsetIn(inter, r), inter.Shape(), size)
			cov.mark(region.Shape(), offsetIn(inter, region), inter.Shape())
			job.raw = buf
			wb.dropStaged(st, key)
			if !cov.full(region.Count()) {
				sc := &stagedChunk{raw: buf, cov: cov}
				sc.refs.Store(2)
				st.staged[key] = sc
				t.chunks[i].plan.staged = true
				job.cov = cov
				job.staged = sc
			}
		}
		t.unfinished.Add(1)
		wb.jobs.push(job)
	}
	return nil
}

// loadPartial fills buf with the current values of chunk c, which t writes
// only in part, and returns a coverage bitmap that the caller may change.
func (wb *writeBehind) loadPartial(t *wbTask, st *wbArray, key string, c []int, region chunk.Region, buf []byte, freshFrom int) (coverage, error) {
	if sc, ok := st.staged[key]; ok {
		copy(buf, sc.raw)
		return append(coverage(nil), sc.cov...), nil
	}
	if freshFrom >= 0 && region.Start[0] >= freshFrom {
		p := t.info.params(nil)
		fillBytes(buf, t.info.DType, p.HasFill, p.Fill)
		return newCoverage(region.Count()), nil
	}
	// The chunk was written before this DB wrote the array in part, or it
	// was completed since: the store holds its latest state once the
	// earlier tasks are committed.
	// NOTE: this wait makes a partial Write of such a chunk synchronous.
	if err := wb.waitCommitted(t.seq - 1); err != nil {
		return nil, err
	}
	cov, err := wb.db.loadStaged(t.info, c, region, buf)
	if err != nil {
		return nil, fmt.Errorf("%s array %q: %w", t.op, t.info.Name, err)
	}
	return cov, nil
}

// encodeLoop encodes jobs until the job queue is closed.
func (wb *writeBehind) encodeLoop() {
	defer wb.workers.Done()
	var scratch []byte
	for {
		job, ok := wb.jobs.pop()
		if !ok {
			return
		}
		t := job.task
		c := &t.chunks[job.i]
		var err error
		if wb.failure() == nil {
			scratch, err = wb.encode(scratch[:0], job, c)
		}
		if job.staged != nil {
			wb.releaseStaged(job.staged)
		}
		stored := int64(cap(c.stream) + len(c.plan.coverage))
		wb.mu.Lock()
		if job.staged == nil {
			wb.putBufLocked(job.raw)
		}
		delta := stored - int64(cap(job.raw))
		t.reserved += delta
		t.encoded += stored
		wb.mu.pending += delta
		if err != nil && t.err == nil {
			t.err = err
		}
		wb.mu.cond.Broadcast()
		wb.mu.Unlock()
		t.unfinished.Done()
	}
}

// encode encodes one job into c, using scratch as the encoder's output
// buffer, and returns scratch for reuse.
func (wb *writeBehind) encode(scratch []byte, job wbJob, c *encodedChunk) ([]byte, error) {
	info := job.task.info
	coords := job.task.coords[job.i]
	codec, err := codecs.ByName(info.Codec)
	if err != nil {
		return scratch, err
	}
	bound := info.ErrorBound()
	if !info.resolved() {
		bound = codecs.Bound{}
	}
	if c.plan.staged {
		c.plan.coverage = job.cov.encode()
	}
	scratch, err = wb.db.encodeChunk(scratch, codec, bound, wb.db.policy(info.Name), info, coords, job.shape, job.raw, c.plan)
	if err != nil {
		return scratch, fmt.Errorf("array %q chunk %v: %w", info.Name, coords, err)
	}
	// The stream moves to a buffer of the free list, whose capacity is what
	// stays reserved until the task commits.
	c.stream = wb.getBuf(len(scratch))
	copy(c.stream, scratch)
	return scratch, nil
}

// commitLoop commits the tasks in call order until the queue is closed.
func (wb *writeBehind) commitLoop() {
	defer close(wb.committerDone)
	for t := range wb.queue {
		t.unfinished.Wait()
		wb.mu.Lock()
		err := wb.mu.err
		failed := err != nil
		if err == nil {
			err = t.err
		}
		wb.mu.Unlock()
		if err == nil {
			err = wb.commit(t)
		}
		wb.mu.Lock()
		wb.mu.pending -= t.reserved
		for i := range t.chunks {
			if s := t.chunks[i].stream; s != nil {
				wb.putBufLocked(s)
			}
		}
		if err != nil && !failed {
			wb.mu.err = fmt.Errorf("%w: %s array %q (call %d after Open): %w", ErrWriteBehind, t.op, t.info.Name, t.seq, err)
		}
		wb.mu.committed = t.seq
		wb.mu.cond.Broadcast()
		wb.mu.Unlock()
		t.chunks = nil
		updateMemoryLimit()
	}
}

// commit writes the chunks of t and, when it changed, the catalog entry in
// one batch.
func (wb *writeBehind) commit(t *wbTask) error {
	db := wb.db
	unlock := db.lockArray(t.info.Name)
	defer unlock()
	cur, err := getInfo(db.pdb, t.info.Name)
	if err != nil {
		return err
	}
	if cur.ID != t.info.ID {
		return fmt.Errorf("array %q was deleted and created again while writes were pending", t.info.Name)
	}
	for i := range t.chunks {
		if !t.chunks[i].plan.staged {
			t.chunks[i].plan.dropCoverage = db.hasCoverage(cur.ID, t.coords[i])
		}
	}
	var extra func(*pebble.Batch) error
	if t.writeInfo {
		extra = func(b *pebble.Batch) error { return setInfo(b, t.info) }
	}
	return db.commitChunksWith(wb.wopts, t.info, t.coords, t.chunks, extra)
}

// cloneInfo returns a copy of info whose Shape can be changed.
func cloneInfo(info *ArrayInfo) *ArrayInfo {
	c := *info
	c.Shape = chunk.Shape(info.Shape).Clone()
	return &c
}

// jobQueue is the FIFO of chunks waiting for an encoder. It has no length
// limit, because MaxPendingBytes already bounds the memory of its jobs, and
// a bounded queue would hold the caller back to a few chunks ahead of the
// encoders.
type jobQueue struct {
	mu     sync.Mutex
	cond   sync.Cond
	jobs   []wbJob
	head   int
	closed bool
}

func (q *jobQueue) push(j wbJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.cond.Signal()
}

// pop returns the oldest job, waiting for one, or ok=false once the queue
// is closed and empty.
func (q *jobQueue) pop() (j wbJob, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.jobs) && !q.closed {
		q.cond.Wait()
	}
	if q.head == len(q.jobs) {
		return wbJob{}, false
	}
	j = q.jobs[q.head]
	q.jobs[q.head] = wbJob{}
	q.head++
	if q.head == len(q.jobs) {
		q.jobs, q.head = q.jobs[:0], 0
	}
	return j, true
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
