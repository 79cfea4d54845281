package httpc

import "sync"

// reusedMin is the smallest body worth a reused buffer; smaller ones are
// allocated as they come and cost the collector next to nothing.
const reusedMin = 64 << 10

// Buffer keeps one large body buffer from one invocation for the next.
// The bootstrap handles one invocation at a time, so the event's buffer and the
// result's can serve again once the result is posted: a large event then
// allocates nothing, instead of leaving twice its size of garbage per
// invocation for the collector, which held the bootstrap's RSS up.
type Buffer struct {
	mu sync.Mutex
	b  []byte
}

// Take returns a buffer of n bytes: the kept one when it is large enough.
func (r *Buffer) Take(n int) []byte {
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

// Give keeps b for a later take, when nothing else will touch it again. It
// keeps the larger of b and the buffer it holds, up to maxBodyBytes.
func (r *Buffer) Give(b []byte) {
	if r == nil || cap(b) < reusedMin || cap(b) > MaxBodyBytes {
		return
	}
	r.mu.Lock()
	if cap(b) > cap(r.b) {
		r.b = b
	}
	r.mu.Unlock()
}
