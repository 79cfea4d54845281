package httpc

// A kept-alive connection: one request at a time, written with a single
// writev, its answer read by response.go.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// httpConn is one connection and the reader that buffers its answers.
type httpConn struct {
	conn      net.Conn
	raw       syscall.RawConn // conn's socket, for peeking; nil when it has none
	r         *bufio.Reader
	bodies    *Buffer
	mustClose bool // the peer said Connection: close, or delimited a body by closing
}

func (pc *httpConn) close() { pc.conn.Close() }

func (pc *httpConn) roundTrip(ctx context.Context, host string, req *Request, stream bool) (*Response, error) {
	stop := poisonOnCancel(ctx, pc.conn)
	// A body on its way in must not hold the request up either, until it has
	// gone out: its connection is then its owner's again, which may reuse it
	// while the answer is awaited.
	sourceGone := func() {}
	if req.Stream != nil {
		stopSource := poisonOnCancel(ctx, req.Stream.pc.conn)
		sourceGone = func() {
			if !stopSource() {
				req.Stream.poisoned = true
			}
		}
	}
	resp, err := pc.exchange(ctx, host, req, stream, sourceGone)
	if !stop() {
		// ctx ended while the request ran: the deadline now poisons the
		// connection, whatever came of the exchange.
		pc.mustClose = true
		if resp != nil && resp.Stream != nil {
			resp.Stream.poisoned = true
		}
		if err == nil {
			err = context.Cause(ctx)
			// send drops an answer that comes with an error: its body's room
			// goes back now.
			pc.bodies.Give(resp.Body)
			resp.Body = nil
		}
	}
	return resp, err
}

// poisonOnCancel makes every blocked read and write on conns fail at once when
// ctx ends. stop unhooks it; when stop returns false, it has fired, or is
// firing, and the caller must close conns rather than reuse them. conns are
// taken now, so the hook never looks at state the caller changes afterwards.
func poisonOnCancel(ctx context.Context, conns ...net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		for _, c := range conns {
			if c != nil {
				c.SetDeadline(ALongTimeAgo)
			}
		}
	})
}

// exchange sends req and reads its answer; sourceGone is called once the body
// has been written, or failed to be.
func (pc *httpConn) exchange(ctx context.Context, host string, req *Request, stream bool, sourceGone func()) (*Response, error) {
	head := make([]byte, 0, 256)
	head = append(head, req.Method...)
	head = append(head, ' ')
	head = append(head, req.Path...)
	head = append(head, " HTTP/1.1\r\nHost: "...)
	head = append(head, host...)
	head = append(head, "\r\n"...)
	for _, f := range req.Header {
		head = append(head, f.Name...)
		head = append(head, ": "...)
		head = append(head, f.Value...)
		head = append(head, "\r\n"...)
	}
	if req.Chunks != nil {
		head = append(head, "Transfer-Encoding: chunked\r\n"...)
	} else if req.Stream != nil || req.Body != nil || req.Method == "POST" {
		length := int64(len(req.Body))
		if req.Stream != nil {
			length = req.Stream.left
		}
		head = append(head, "Content-Length: "...)
		head = strconv.AppendInt(head, length, 10)
		head = append(head, "\r\n"...)
	}
	head = append(head, "\r\n"...)
	var sent bool
	var writeErr error
	switch {
	case req.Chunks != nil:
		sent, writeErr = sendChunks(head, req.Chunks, req.Trailer, pc.conn)
	case req.Stream != nil:
		sent, writeErr = req.Stream.sendWith(head, pc.conn)
	default:
		bufs := net.Buffers{head, req.Body}
		var n int64
		n, writeErr = bufs.WriteTo(pc.conn)
		sent = n > 0
	}
	sourceGone()
	if req.Sent != nil && (writeErr == nil || sent) {
		req.Sent()
	}
	if writeErr != nil {
		pc.mustClose = true
		if AsCut(writeErr) != nil {
			// The request stops short of its Content-Length, and closing the
			// connection abandons it: the peer takes nothing, and no answer is
			// due.
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, writeErr)
		}
		if !sent {
			return nil, fmt.Errorf("%s %s: %w: %w", req.Method, req.Path, errNotSent, writeErr)
		}
		// The peer may have answered before it stopped reading: the Runtime API
		// refuses an oversized response with 413 without reading all of it.
	}
	resp, err := pc.readResponse(ctx, req, stream)
	switch {
	case err == nil:
		return resp, nil
	case writeErr != nil:
		return nil, fmt.Errorf("%s %s: send: %w", req.Method, req.Path, writeErr)
	case errors.Is(err, errNoAnswer) && req.Method == "GET":
		err = fmt.Errorf("%w: %w", errNotSent, err)
	}
	return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
}

// stillIdle tells whether a kept-alive connection can carry a request: the
// peer has neither closed it nor sent anything unasked (a 408 on its idle
// timeout, say) since the last answer. It peeks without blocking.
func (pc *httpConn) stillIdle() bool {
	if pc.r.Buffered() > 0 {
		return false
	}
	if pc.raw == nil {
		return true
	}
	alive := false
	err := pc.raw.Read(func(fd uintptr) bool {
		n, err := peek(fd)
		alive = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true // never wait for the socket to become readable
	})
	return err == nil && alive
}

// peek looks at the socket without blocking and without taking a byte: n > 0
// when there is something to read, 0 at its end, -1 with EAGAIN when nothing
// has come yet, -1 with another error when it failed.
func peek(fd uintptr) (n int, err error) {
	var buf [1]byte
	n, _, err = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n, err
}
