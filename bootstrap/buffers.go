package main

import (
	"runtime/debug"
	"sync"
)

// reusedMin is the smallest body worth a reused buffer; smaller ones are
// allocated as they come and cost the collector next to nothing.
const reusedMin = 64 << 10

// reusedBuffer keeps one large body buffer from one invocation for the next.
// The bootstrap handles one invocation at a time, so the event's buffer and the
// result's can serve again once the result is posted: a 1 MB event then
// allocates nothing, instead of leaving 2 MB of garbage per invocation for the
// collector, which is what held the bootstrap's RSS near 10 MiB.
type reusedBuffer struct {
	mu sync.Mutex
	b  []byte
}

// take returns a buffer of n bytes: the kept one when it is large enough.
func (r *reusedBuffer) take(n int) []byte {
	if n >= reusedMin {
		roomForBody(n)
	}
	if r != nil && n >= reusedMin {
		r.mu.Lock()
		b := r.b
		if cap(b) >= n {
			r.b = nil
			r.mu.Unlock()
			return b[:n]
		}
		r.mu.Unlock()
	}
	return make([]byte, n)
}

// give keeps b for a later take, when nothing else will touch it again. It
// keeps the larger of b and the buffer it holds, up to maxPresized.
func (r *reusedBuffer) give(b []byte) {
	if r == nil || cap(b) < reusedMin || cap(b) > maxPresized {
		return
	}
	r.mu.Lock()
	if cap(b) > cap(r.b) {
		r.b = b
	}
	r.mu.Unlock()
}

// memoryLimitBase is what the bootstrap's Go runtime may use besides large
// bodies: its heap for everything else, stacks and its own structures.
const memoryLimitBase = 3 << 20

// memoryLimit holds the collector to memoryLimitBase plus room for four bodies
// of the largest size seen so far: the kept event and result buffers, and a
// larger one of each while it replaces them. Reused buffers leave little
// garbage, so the limit rarely makes the collector run; it stops the heap from
// creeping up between collections (peak RSS with 1 MB events 10.5 to about
// 8.5 MiB). It is raised before a body is allocated, never after, so a large
// body never finds the collector fighting it.
var memoryLimit struct {
	sync.Mutex
	on      bool
	largest int
}

// limitMemory turns the limit on, unless GOMEMLIMIT has set one.
func limitMemory() {
	memoryLimit.Lock()
	defer memoryLimit.Unlock()
	memoryLimit.on = true
	debug.SetMemoryLimit(memoryLimitBase + 4*int64(memoryLimit.largest))
}

// roomForBody raises the limit, if on, before a body of n bytes is allocated.
func roomForBody(n int) {
	memoryLimit.Lock()
	defer memoryLimit.Unlock()
	if n <= memoryLimit.largest {
		return
	}
	memoryLimit.largest = n
	if memoryLimit.on {
		debug.SetMemoryLimit(memoryLimitBase + 4*int64(n))
	}
}
