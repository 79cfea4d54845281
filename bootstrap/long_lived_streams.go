package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// runtime1's streamed results. The bridge carries the event as ever; the
// result goes on a stream connection, which runtime.js dials to the channels'
// port with a token the bridge request carries, as a process dials its
// channel. A write to a socket ends once the kernel has the bytes, so
// runtime.js sends a large piece without copying it, which a body of the
// bridge's answer would not allow (Deno's server holds a piece after asking for
// the next). The connection opens with a head frame (the invocation's nonce
// and the content type) at the handler's first byte, then carries its frames
// (streamed.go). The bootstrap
// reads them as they come, without waiting for the bridge's answer, which
// comes once the handler has settled. A connection whose stream ended well is
// kept by both ends for a later invocation, which the bridge request names by
// its token: the first byte then waits for no dial.

// bridgeStreamHeader on an answer says the handler streamed its result, on
// its stream connection.
const bridgeStreamHeader = "X-Bridge-Stream"

// bridgeStreamTokenHeader names the invocation's stream connection: a new
// token to dial with, or the token of a connection runtime.js keeps.
const bridgeStreamTokenHeader = "X-Bridge-Stream-Token"

// bridgeStreamNonceHeader carries the invocation's stream nonce, new for each
// invocation, which its head frame must begin with (readStreamHead).
const bridgeStreamNonceHeader = "X-Bridge-Stream-Nonce"

// streamConn is an invocation's stream connection: one kept from an earlier
// invocation (ch), or one to come (arrived).
type streamConn struct {
	token   string
	ch      *channel
	arrived <-chan *channel
}

// streamHead is the start of a streamed result: its connection and content
// type, or, when the connection began with anything but a head, the
// invocation's error.
type streamHead struct {
	conn        *streamConn
	contentType string
	fail        *functionError
}

// close ends the connection; runtime.js, reading it for its end, drops it too.
func (sc *streamConn) close() {
	if sc.ch != nil {
		sc.ch.close()
	}
}

// streamFor is the stream connection for an invocation: the one kept last, or
// a new token to dial with. forget withdraws a token that was not used.
func (s *bridgedDeno) streamFor(inv *runtimeapi.Invocation) (sc *streamConn, forget func(), fe *functionError) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		sc = s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
	}
	s.mu.Unlock()
	if sc != nil {
		return sc, func() {}, nil
	}
	token, arrived, forget, err := s.channels.expect()
	if err != nil {
		return nil, nil, newInitError("Runtime.BridgeError", fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err))
	}
	return &streamConn{token: token, arrived: arrived}, forget, nil
}

// keep holds a connection whose stream ended well for a later invocation; as
// many are kept as invocations may stream from the process at once. One with
// bytes already past its last frame is not: runtime.js writes nothing there.
func (s *bridgedDeno) keep(sc *streamConn) {
	sc.ch.conn.SetReadDeadline(time.Time{})
	s.mu.Lock()
	kept := !s.exited() && len(s.idle) < max(s.maxStreams, 1) && sc.ch.r.Buffered() == 0
	if kept {
		s.idle = append(s.idle, sc)
	}
	s.mu.Unlock()
	if !kept {
		sc.close()
	}
}

// closeIdle closes the connections kept for later invocations.
func (s *bridgedDeno) closeIdle() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, sc := range idle {
		sc.close()
	}
}

// awaitStreamHead waits, until ctx ends, for the stream connection and the head
// frame it opens with, which must carry nonce. nil: none came, or the
// connection ended before a head (the handler failed before its first byte,
// which the bridge answers); the connection is then closed.
func (s *bridgedDeno) awaitStreamHead(ctx context.Context, inv *runtimeapi.Invocation, sc *streamConn, nonce string) *streamHead {
	if sc.ch == nil {
		ch, got := receive(ctx, sc.arrived, s.done)
		if !got {
			return nil
		}
		sc.ch = ch
	}
	if !inv.Deadline.IsZero() {
		sc.ch.conn.SetReadDeadline(inv.Deadline)
	}
	stop := context.AfterFunc(ctx, func() { sc.ch.conn.SetReadDeadline(httpc.ALongTimeAgo) })
	contentType, err := readStreamHead(sc.ch.r, nonce)
	switch {
	case !stop() || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded):
		sc.close()
		return nil
	case err != nil:
		sc.close()
		return &streamHead{fail: newInitError("Runtime.BridgeError", fmt.Sprintf(
			"RequestId: %s Error: runtime.js began a response stream badly: %v", inv.RequestID, err))}
	}
	return &streamHead{conn: sc, contentType: contentType}
}

// streamed is the outcome of a handler that streams its result: its frames
// are read from the stream connection as the post sends them, until the
// deadline at the latest. Then the bridge's answer, which comes once the
// handler has settled, is awaited, and the connection kept if both say the
// stream ended well; cancel ends the exchange.
func (s *bridgedDeno) streamed(inv *runtimeapi.Invocation, head *streamHead, ex *bridgeExchange, cancel func()) outcome {
	sc := head.conn
	st := newStreamed(head.contentType, sc.ch.r, sc.ch.conn.SetReadDeadline, inv.RequestID, func(err error) (*functionError, bool) {
		return cutOffError(s.denoProcess, inv, s.concurrent, err)
	})
	return outcome{streamed: st, recycle: func() {
		answered := ex.answered
		if !answered && st.body.settled {
			select {
			case a := <-ex.answers: // the bridge's, as the head was taken
				answered = streamAnswer(a)
				ex.give(a)
			case <-time.After(exitWait):
			}
		}
		if answered && st.body.settled {
			s.keep(sc)
		} else {
			sc.close()
		}
		cancel()
		ex.release()
		s.end()
	}}
}
