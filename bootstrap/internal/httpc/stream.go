package httpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Cut-through bodies. runtime1 passes a large event from the Runtime API on to
// Deno, and a large result from Deno on to the Runtime API, as its bytes
// arrive, instead of reading each whole before sending it on. The bootstrap's
// copies then overlap the peers' own writes and reads, and no megabyte buffer
// sits in the bootstrap's heap (docs/benchmarks.md has the figures).
//
// A body cut off halfway (its sender died, or a deadline ended the read) is
// never passed on as if whole: the request carrying it is abandoned by closing
// its connection before Content-Length bytes went out, so the receiver sees an
// incomplete request. Deno then never runs the handler on half an event; the
// Runtime API passes none of a half result on to the caller (what the bootstrap
// does next is in report, loop.go).

// streamMin is the smallest body passed on as a stream. Smaller ones are read
// whole: they fit in a socket buffer, so a stream would save nothing.
const streamMin = reusedMin

// Stream is an answer's body still on its connection, framed by
// Content-Length. Whoever takes one must call finish when done with it.
type Stream struct {
	pc       *httpConn
	owner    *Client        // gets the connection back once the body is read
	size     int64          // the whole body's length
	left     int64          // bytes not read yet
	poisoned bool           // a cancelled request set a deadline on its connection
	chunks   *chunkedReader // a chunked body, read with Read; size and left are -1
}

// Read reads a chunked stream's body as it arrives; io.EOF after its last
// chunk. Only a stream from a request with StreamChunks has one to read.
func (s *Stream) Read(p []byte) (int, error) {
	if s.chunks == nil {
		return 0, errors.New("not a chunked stream")
	}
	return s.chunks.Read(p)
}

// Size is the whole body's length.
func (s *Stream) Size() int64 { return s.size }

// SetReadDeadline bounds when the rest of the body must have arrived; Finish
// clears it.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.pc.conn.SetReadDeadline(t) }

// CutError is a body being passed on that ended, or failed to arrive, before
// its length: the fault of the peer it came from, not of the one it was going
// to.
type CutError struct {
	Read, Size int64
	err        error
}

func (e *CutError) Error() string {
	return fmt.Sprintf("body cut off after %d of %d bytes: %v", e.Read, e.Size, e.err)
}

func (e *CutError) Unwrap() error { return e.err }

// copyBuffers are the buffers bodies pass through; one per stream in flight.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// sendWith writes head, then the whole body, to dst: what the reader already
// holds goes out with head in one write, the rest as it arrives. sent tells
// whether any byte went out. A *cutError means the body's sender failed; any
// other error, that dst did.
func (s *Stream) sendWith(head []byte, dst net.Conn) (sent bool, err error) {
	held, _ := s.pc.r.Peek(int(min(int64(s.pc.r.Buffered()), s.left)))
	bufs := net.Buffers{head, held}
	n, err := bufs.WriteTo(dst)
	if err != nil {
		return n > 0, err
	}
	s.pc.r.Discard(len(held))
	s.left -= int64(len(held))
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for s.left > 0 {
		k, rerr := s.pc.r.Read((*buf)[:min(int64(len(*buf)), s.left)])
		s.left -= int64(k)
		if k > 0 {
			if _, err := dst.Write((*buf)[:k]); err != nil {
				return true, err
			}
		}
		if rerr != nil && s.left > 0 {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return true, &CutError{s.size - s.left, s.size, rerr}
		}
	}
	return true, nil
}

// ReadAll reads the rest of the body into a buffer from bodies.
func (s *Stream) ReadAll(ctx context.Context) ([]byte, error) {
	if s.chunks != nil {
		return s.owner.Bodies.held(ctx, s.pc.conn, func() ([]byte, error) { return readChunks(s.chunks) })
	}
	body, err := readN(ctx, s.pc.r, s.pc.conn, s.left, s.owner.Bodies)
	if err != nil {
		return nil, err
	}
	s.left = 0
	return body, nil
}

// Finish hands the connection back for the next request once the body was read
// to its end; otherwise it closes it, so that whatever is left of the body can
// never be taken for the next answer. A nil stream is a no-op.
func (s *Stream) Finish() {
	if s == nil || s.pc == nil {
		return
	}
	pc := s.pc
	s.pc = nil
	if (s.chunks == nil && s.left > 0) || (s.chunks != nil && !s.chunks.done) || s.poisoned {
		pc.close()
		return
	}
	pc.conn.SetReadDeadline(time.Time{}) // the deadline of the invocation it served
	s.owner.release(pc)
}

// AsCut is err's *cutError, nil when err is not the sender of a body being
// passed on failing.
func AsCut(err error) *CutError {
	var ce *CutError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// ReadStream reads a streamed body whole, for an answer the caller must look
// into rather than pass on. Cancelling ctx ends it.
func ReadStream(ctx context.Context, resp *Response) error {
	s := resp.Stream
	if s == nil {
		return nil
	}
	stop := poisonOnCancel(ctx, s.pc.conn)
	body, err := s.ReadAll(ctx)
	if !stop() {
		s.poisoned = true
	}
	s.Finish()
	resp.Body, resp.Stream = body, nil
	return err
}
