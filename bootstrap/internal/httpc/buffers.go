package httpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// reusedMin is the smallest body worth a reused buffer; smaller ones are
// allocated as they come and cost the collector next to nothing.
const reusedMin = 64 << 10

// Buffer is where large bodies are read.
//
// It keeps one large body buffer from one invocation for the next. On demand
// the bootstrap handles one invocation at a time, so the event's buffer and
// the result's can serve again once the result is posted: a large event then
// allocates nothing, instead of leaving twice its size of garbage per
// invocation for the collector, which held the bootstrap's RSS up.
//
// Under concurrency it may also bound the bodies held at once (Limit): each
// body of reusedMin bytes or more is charged from the take that reads it to
// the give that ends it, and a take waits while the bodies already held leave
// no room for it.
type Buffer struct {
	mu sync.Mutex
	b  []byte

	room  *semaphore.Weighted // nil: bodies are not bounded
	limit int64
	waits func(n, limit int64)
}

// BodyGrace is how long a body charged to a bounded room has to arrive once it
// has room. Its sender wrote it whole right after its head, so only a sender
// holding it back takes longer (or one whose event loop some other work blocks
// that long); the room it holds would otherwise keep others' results waiting
// until its invocation's deadline.
var BodyGrace = 10 * time.Second // a variable only so that tests can shorten it

// HeldBackError is a body that did not arrive within BodyGrace of its room.
type HeldBackError struct {
	Size int64 // -1 when its length shows only as it is read
}

func (e *HeldBackError) Error() string {
	size := "a body"
	if e.Size >= 0 {
		size = fmt.Sprintf("a body of %d bytes", e.Size)
	}
	return fmt.Sprintf("%s announced and then held back: not all of it came within %v of its room", size, BodyGrace)
}

// Deadliner is the connection a body is read from.
type Deadliner interface{ SetReadDeadline(time.Time) error }

// HeldBack is err, or a *HeldBackError when err is the read deadline that
// Take or held set on a body charged to the room (BodyGrace after its room),
// not ctx's deadline, which may be the same one and fire first, or cancel.
func (r *Buffer) HeldBack(ctx context.Context, err error, n int64) error {
	if !r.charges(n) || !errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return err
	}
	return &HeldBackError{n}
}

// charges tells whether a body of n bytes (-1: unknown) is charged to a
// bounded room.
func (r *Buffer) charges(n int64) bool {
	return r != nil && r.room != nil && (n < 0 || n >= reusedMin)
}

// grace gives conn BodyGrace from now to deliver a body just charged. When
// ctx's deadline comes first, the read is left as it was: what watches ctx
// ends it as a timeout, where a read deadline of its own at the same moment
// would race it and could fail first, as something else.
func grace(ctx context.Context, conn Deadliner) {
	if conn == nil {
		return
	}
	t := time.Now().Add(BodyGrace)
	if d, ok := ctx.Deadline(); ok && !t.Before(d) {
		return
	}
	conn.SetReadDeadline(t)
	if ctx.Err() != nil { // cancelled meanwhile: whoever stops the read on cancel set a deadline this replaced
		conn.SetReadDeadline(time.Now())
	}
}

// Limit bounds the bytes of large bodies held at once to limit, which must be
// at least MaxBodyBytes so that any one body fits. waits, when set, is told of
// each body that must wait for room. Set it before the buffer is used.
func (r *Buffer) Limit(limit int64, waits func(n, limit int64)) {
	r.room = semaphore.NewWeighted(max(limit, MaxBodyBytes))
	r.limit = max(limit, MaxBodyBytes)
	r.waits = waits
}

// Take returns a buffer of n bytes, the kept one when it is large enough,
// once the bodies already held leave room for it. It fails only when ctx ends
// first; the caller must give the buffer back. A body charged to a bounded
// room gets BodyGrace to arrive on conn from then (HeldBack tells that apart).
func (r *Buffer) Take(ctx context.Context, n int, conn Deadliner) ([]byte, error) {
	if r == nil || n < reusedMin {
		return make([]byte, n), nil
	}
	if err := r.hold(ctx, int64(n)); err != nil {
		return nil, err
	}
	if r.charges(int64(n)) {
		grace(ctx, conn)
	}
	r.mu.Lock()
	b := r.b
	if cap(b) >= n {
		r.b = nil
		r.mu.Unlock()
		return b[:n], nil
	}
	r.mu.Unlock()
	return make([]byte, n), nil
}

// Give ends a body from take, whose room goes to the next: it keeps the larger
// of b and the buffer it holds, up to MaxBodyBytes, for a later take. It must
// be given the body as take returned it, or as a read of unknown length did
// (held), and only once.
func (r *Buffer) Give(b []byte) {
	if r == nil || len(b) < reusedMin {
		return
	}
	// Kept before its room goes back, so that a take waiting for the room
	// finds the buffer too.
	if cap(b) <= MaxBodyBytes {
		r.mu.Lock()
		if cap(b) > cap(r.b) {
			r.b = b
		}
		r.mu.Unlock()
	}
	r.release(int64(len(b)))
}

// held charges a body whose length shows only as it is read (chunked, or up
// to the connection's end): read runs with room for the largest allowed, and
// BodyGrace to arrive on conn, and only what it read stays charged, until it
// is given back.
func (r *Buffer) held(ctx context.Context, conn Deadliner, read func() ([]byte, error)) ([]byte, error) {
	if r == nil || r.room == nil {
		return read()
	}
	if err := r.hold(ctx, MaxBodyBytes); err != nil {
		return nil, err
	}
	grace(ctx, conn)
	body, err := read()
	err = r.HeldBack(ctx, err, -1)
	switch {
	case err != nil || len(body) < reusedMin:
		r.release(MaxBodyBytes)
	default:
		r.release(MaxBodyBytes - int64(len(body)))
	}
	return body, err
}

func (r *Buffer) hold(ctx context.Context, n int64) error {
	if r.room == nil {
		return nil
	}
	if r.room.TryAcquire(n) {
		return nil
	}
	if r.waits != nil {
		r.waits(n, r.limit)
	}
	if err := r.room.Acquire(ctx, n); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

func (r *Buffer) release(n int64) {
	if r.room != nil {
		r.room.Release(n)
	}
}
