package httpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Client is the bootstrap's HTTP/1.1 client, for the only two peers it has:
// the Runtime API and runtime1's bridge to runtime.js. Both are on this host and
// take requests with a body known in advance, so the client is small: kept-alive
// connections (one, unless invocations run concurrently), requests written with
// a single writev, responses framed by Content-Length, chunks, or the end of
// the connection.
//
// It stands in for net/http, which doubles the executable (all of it mapped
// into the bootstrap's memory) and spends goroutine hand-offs on each request,
// three requests per invocation: docs/benchmarks.md has the measurement.
type Client struct {
	addr   string  // host:port
	Bodies *Buffer // large bodies are read into it; the caller gives them back

	// MaxIdle is how many idle connections are kept for later requests: one
	// per request that may be in flight at once. Zero means one.
	MaxIdle int

	mu   sync.Mutex
	idle []*httpConn // kept-alive connections, the most recently used last
}

// Field is one header line. Requests keep their order; responses are
// searched by name, case-insensitively.
type Field struct{ Name, Value string }

type Request struct {
	Method, Path string
	Header       []Field
	Body         []byte
	Stream       *Stream // instead of body: one passed on from another connection as it arrives
	// Chunks, instead of body: one of unknown length, sent chunked as it is
	// read, and then Trailer's fields (declared beforehand in a Trailer
	// header). EOF ends it; any other error abandons the request.
	Chunks  io.Reader
	Trailer func() []Field
	// StreamChunks: a chunked answer to this request stays on its
	// connection, as resp.Stream, to be read with Read as it arrives.
	StreamChunks bool
	// BodyDeadline, when set, is asked once the answer's headers are in for
	// how long its body may take to arrive whole; zero means for ever.
	BodyDeadline func(*Response) time.Time
	// Sent, when set, is called once the request has gone out, before its
	// answer is awaited: from then on the exchange no longer reads Stream.
	// A request that failed before a byte of it went may be sent again, and
	// is not reported.
	Sent func()
}

type Response struct {
	Status int
	Header []Field
	Body   []byte
	Stream *Stream // instead of body, from doStream: a large body left on its connection
}

// Get returns the first value of a header, "" when absent.
func (r *Response) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// errNotSent marks a request the peer cannot have acted on: not one byte of it
// went out, or it is a GET that got not one byte of an answer. On a reused
// connection that means the peer closed it in the instant between the idle
// check and the request, and the request goes again on a fresh one. A POST
// that went out is never sent twice: the peer may have taken it.
var errNotSent = errors.New("connection closed before the request was taken")

// errNoAnswer: the request went out, and the connection closed before the
// answer began.
var errNoAnswer = errors.New("connection closed before any answer")

// ALongTimeAgo is a deadline that makes blocked reads and writes fail at once.
var ALongTimeAgo = time.Unix(1, 0)

func NewClient(addr string) *Client {
	return &Client{addr: addr, Bodies: &Buffer{}}
}

// Do sends one request and reads its whole answer. Cancelling ctx aborts it,
// however long the peer takes (GET /next blocks until an event arrives).
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, false)
}

// DoStream is do, except that a body framed by Content-Length and at least
// streamMin bytes long stays on its connection, as resp.stream, for the caller
// to pass on and then finish.
func (c *Client) DoStream(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, true)
}

func (c *Client) send(ctx context.Context, req *Request, stream bool) (*Response, error) {
	for _, f := range req.Header {
		if !ValidHeaderValue(f.Value) {
			return nil, fmt.Errorf("%s %s: header %s has a line break or control character", req.Method, req.Path, f.Name)
		}
	}
	for {
		conn, reused, err := c.take(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := conn.roundTrip(ctx, c.addr, req, stream)
		if err == nil && resp.Stream != nil {
			resp.Stream.owner = c // the connection travels with the body until finish
			return resp, nil
		}
		if err == nil {
			c.release(conn)
			return resp, nil
		}
		conn.close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if reused && errors.Is(err, errNotSent) {
			// A fresh connection is never reused, so this retries once; not a
			// byte of a streamed body was taken, so it can still go whole.
			continue
		}
		return nil, err
	}
}

// take returns the most recently used idle connection, or dials a new one.
func (c *Client) take(ctx context.Context) (conn *httpConn, reused bool, err error) {
	for conn = c.popIdle(); conn != nil; conn = c.popIdle() {
		if conn.stillIdle() {
			return conn, true, nil
		}
		conn.close()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, false, err
	}
	pc := &httpConn{conn: nc, r: bufio.NewReaderSize(nc, readBufferSize), bodies: c.Bodies}
	if sc, ok := nc.(syscall.Conn); ok {
		pc.raw, _ = sc.SyscallConn()
	}
	return pc, false, nil
}

// release keeps a connection for a later request, unless it must close or
// enough are kept already.
func (c *Client) release(conn *httpConn) {
	if !conn.mustClose {
		c.mu.Lock()
		if len(c.idle) < max(c.MaxIdle, 1) {
			c.idle = append(c.idle, conn)
			conn = nil
		}
		c.mu.Unlock()
	}
	if conn != nil {
		conn.close()
	}
}

// CloseIdle closes the kept-alive connections.
func (c *Client) CloseIdle() {
	for conn := c.popIdle(); conn != nil; conn = c.popIdle() {
		conn.close()
	}
}

// popIdle takes the most recently used idle connection, nil when none is.
func (c *Client) popIdle() *httpConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.idle)
	if n == 0 {
		return nil
	}
	conn := c.idle[n-1]
	c.idle[n-1] = nil
	c.idle = c.idle[:n-1]
	return conn
}
