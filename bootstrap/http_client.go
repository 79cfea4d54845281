package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// httpClient is the bootstrap's HTTP/1.1 client, for the only two peers it has:
// the Runtime API and runtime1's bridge to runtime.js. Both are on this host and
// take one request at a time with a body known in advance, so the client is
// small: one kept-alive connection, requests written with a single writev,
// responses framed by Content-Length, chunks, or the end of the connection.
//
// It replaces net/http, which made up half the executable (6.7 MB against
// 3.1 MB, all of it mapped into the bootstrap's RSS) and spent about 60 µs of
// goroutine hand-offs on each request, three requests per invocation.
type httpClient struct {
	addr   string        // host:port
	bodies *reusedBuffer // large bodies are read into it; the caller gives them back

	mu   sync.Mutex
	idle *httpConn // the kept-alive connection, nil when none is idle
}

// headerField is one header line. Requests keep their order; responses are
// searched by name, case-insensitively.
type headerField struct{ name, value string }

type httpRequest struct {
	method, path string
	header       []headerField
	body         []byte
	stream       *bodyStream // instead of body: one passed on from another connection as it arrives
	// bodyDeadline, when set, is asked once the answer's headers are in for
	// how long its body may take to arrive whole; zero means for ever.
	bodyDeadline func(*httpResponse) time.Time
}

type httpResponse struct {
	status int
	header []headerField
	body   []byte
	stream *bodyStream // instead of body, from doStream: a large body left on its connection
}

// get returns the first value of a header, "" when absent.
func (r *httpResponse) get(name string) string {
	for _, f := range r.header {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// Limits on what a peer may send. Both peers are untrusted: runtime1's bridge
// answers with what the function's code shaped.
const (
	maxHeaderBytes = 1 << 20 // the whole header section; Lambda's largest header is under 8 KB
	readBufferSize = 16 << 10
	maxChunkLine   = 4 << 10 // a chunk's size line, extensions included
	// maxBodyBytes bounds a body: a little over Lambda's 6 MB payload limit,
	// each way. A 1 MB body is read into a buffer of its size, not doubled.
	maxBodyBytes = 8 << 20
)

// tooLargeError is a body over maxBodyBytes, which is not read.
type tooLargeError struct {
	size int64 // its Content-Length, or -1 when only reading it showed
}

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("body over %d bytes", maxBodyBytes)
	}
	return fmt.Sprintf("body of %d bytes, over %d", e.size, maxBodyBytes)
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

// aLongTimeAgo is a deadline that makes blocked reads and writes fail at once.
var aLongTimeAgo = time.Unix(1, 0)

func newHTTPClient(addr string) *httpClient {
	return &httpClient{addr: addr, bodies: &reusedBuffer{}}
}

// do sends one request and reads its whole answer. Cancelling ctx aborts it,
// however long the peer takes (GET /next blocks until an event arrives).
func (c *httpClient) do(ctx context.Context, req *httpRequest) (*httpResponse, error) {
	return c.send(ctx, req, false)
}

// doStream is do, except that a body framed by Content-Length and at least
// streamMin bytes long stays on its connection, as resp.stream, for the caller
// to pass on and then finish.
func (c *httpClient) doStream(ctx context.Context, req *httpRequest) (*httpResponse, error) {
	return c.send(ctx, req, true)
}

func (c *httpClient) send(ctx context.Context, req *httpRequest, stream bool) (*httpResponse, error) {
	for _, f := range req.header {
		if !validHeaderValue(f.value) {
			return nil, fmt.Errorf("%s %s: header %s has a line break or control character", req.method, req.path, f.name)
		}
	}
	for {
		conn, reused, err := c.take(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := conn.roundTrip(ctx, c.addr, req, stream)
		if err == nil && resp.stream != nil {
			resp.stream.owner = c // the connection travels with the body until finish
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

// take returns the idle connection, or dials a new one.
func (c *httpClient) take(ctx context.Context) (conn *httpConn, reused bool, err error) {
	if conn = c.swapIdle(nil); conn != nil {
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
	pc := &httpConn{conn: nc, r: bufio.NewReaderSize(nc, readBufferSize), bodies: c.bodies}
	if sc, ok := nc.(syscall.Conn); ok {
		pc.raw, _ = sc.SyscallConn()
	}
	return pc, false, nil
}

// release keeps a connection for the next request, unless it must close.
func (c *httpClient) release(conn *httpConn) {
	if conn.mustClose {
		conn.close()
		return
	}
	if old := c.swapIdle(conn); old != nil {
		old.close()
	}
}

// closeIdle closes the kept-alive connection, if any.
func (c *httpClient) closeIdle() {
	if conn := c.swapIdle(nil); conn != nil {
		conn.close()
	}
}

// swapIdle makes conn the idle connection and returns the one it replaces.
func (c *httpClient) swapIdle(conn *httpConn) *httpConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.idle
	c.idle = conn
	return old
}

// httpConn is one connection and the reader that buffers its answers.
type httpConn struct {
	conn      net.Conn
	raw       syscall.RawConn // conn's socket, for peeking; nil when it has none
	r         *bufio.Reader
	bodies    *reusedBuffer
	mustClose bool // the peer said Connection: close, or delimited a body by closing
}

func (pc *httpConn) close() { pc.conn.Close() }

func (pc *httpConn) roundTrip(ctx context.Context, host string, req *httpRequest, stream bool) (*httpResponse, error) {
	var source net.Conn // a body on its way in must not hold the request up either
	if req.stream != nil {
		source = req.stream.pc.conn
	}
	stop := poisonOnCancel(ctx, pc.conn, source)
	resp, err := pc.exchange(host, req, stream)
	if !stop() {
		// ctx ended while the request ran: the deadline now poisons the
		// connection, whatever came of the exchange.
		pc.mustClose = true
		if req.stream != nil {
			req.stream.poisoned = true
		}
		if resp != nil && resp.stream != nil {
			resp.stream.poisoned = true
		}
		if err == nil {
			err = context.Cause(ctx)
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
				c.SetDeadline(aLongTimeAgo)
			}
		}
	})
}

func (pc *httpConn) exchange(host string, req *httpRequest, stream bool) (*httpResponse, error) {
	head := make([]byte, 0, 256)
	head = append(head, req.method...)
	head = append(head, ' ')
	head = append(head, req.path...)
	head = append(head, " HTTP/1.1\r\nHost: "...)
	head = append(head, host...)
	head = append(head, "\r\n"...)
	for _, f := range req.header {
		head = append(head, f.name...)
		head = append(head, ": "...)
		head = append(head, f.value...)
		head = append(head, "\r\n"...)
	}
	if req.stream != nil || req.body != nil || req.method == "POST" {
		length := int64(len(req.body))
		if req.stream != nil {
			length = req.stream.left
		}
		head = append(head, "Content-Length: "...)
		head = strconv.AppendInt(head, length, 10)
		head = append(head, "\r\n"...)
	}
	head = append(head, "\r\n"...)
	var sent bool
	var writeErr error
	if req.stream != nil {
		sent, writeErr = req.stream.sendWith(head, pc.conn)
	} else {
		bufs := net.Buffers{head, req.body}
		var n int64
		n, writeErr = bufs.WriteTo(pc.conn)
		sent = n > 0
	}
	if writeErr != nil {
		pc.mustClose = true
		if asCut(writeErr) != nil {
			// The request stops short of its Content-Length, and closing the
			// connection abandons it: the peer takes nothing, and no answer is
			// due.
			return nil, fmt.Errorf("%s %s: %w", req.method, req.path, writeErr)
		}
		if !sent {
			return nil, fmt.Errorf("%s %s: %w: %w", req.method, req.path, errNotSent, writeErr)
		}
		// The peer may have answered before it stopped reading: the Runtime API
		// refuses an oversized response with 413 without reading all of it.
	}
	resp, err := pc.readResponse(req, stream)
	switch {
	case err == nil:
		return resp, nil
	case writeErr != nil:
		return nil, fmt.Errorf("%s %s: send: %w", req.method, req.path, writeErr)
	case errors.Is(err, errNoAnswer) && req.method == "GET":
		err = fmt.Errorf("%w: %w", errNotSent, err)
	}
	return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
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

// readResponse reads a status line, headers and body, skipping any interim
// 1xx answers.
func (pc *httpConn) readResponse(req *httpRequest, stream bool) (*httpResponse, error) {
	if _, err := pc.r.Peek(1); err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	budget := maxHeaderBytes
	for {
		line, err := readLine(pc.r, &budget)
		if err != nil {
			return nil, err
		}
		proto, status, ok := parseStatusLine(line)
		if !ok {
			return nil, fmt.Errorf("malformed status line %q", truncate(line, 64))
		}
		resp := &httpResponse{status: status}
		for {
			line, err := readLine(pc.r, &budget)
			if err != nil {
				return nil, err
			}
			if line == "" {
				break
			}
			name, value, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") || !validHeaderValue(value) {
				return nil, fmt.Errorf("malformed header line %q", truncate(line, 64))
			}
			resp.header = append(resp.header, headerField{name, strings.Trim(value, " \t")})
		}
		if status == 101 {
			return nil, errors.New("the peer switched protocols (101)")
		}
		if status >= 100 && status < 200 {
			continue
		}
		if connection := resp.get("Connection"); hasToken(connection, "close") ||
			(proto == "HTTP/1.0" && !hasToken(connection, "keep-alive")) {
			pc.mustClose = true
		}
		var deadline time.Time
		if req.bodyDeadline != nil {
			deadline = req.bodyDeadline(resp)
			pc.conn.SetReadDeadline(deadline)
		}
		resp.body, err = pc.readBody(req.method, resp, stream)
		if !deadline.IsZero() {
			pc.conn.SetReadDeadline(time.Time{}) // a streamed body is timed by its reader
		}
		return resp, err
	}
}

func (pc *httpConn) readBody(method string, resp *httpResponse, stream bool) ([]byte, error) {
	if method == "HEAD" || resp.status == 204 || resp.status == 304 {
		return nil, nil
	}
	if te := resp.get("Transfer-Encoding"); te != "" {
		if !strings.EqualFold(strings.TrimSpace(te), "chunked") {
			return nil, fmt.Errorf("unsupported Transfer-Encoding %q", te)
		}
		if resp.get("Content-Length") != "" {
			pc.mustClose = true // framed two ways: do not trust what follows
		}
		return readChunked(pc.r)
	}
	cl, err := contentLength(resp)
	switch {
	case err != nil:
		return nil, err
	case cl > maxBodyBytes:
		return nil, &tooLargeError{cl}
	case stream && cl >= streamMin:
		resp.stream = &bodyStream{pc: pc, size: cl, left: cl}
		return nil, nil
	case cl >= 0:
		return readN(pc.r, cl, pc.bodies)
	}
	pc.mustClose = true // the body ends where the connection does
	body, err := io.ReadAll(io.LimitReader(pc.r, maxBodyBytes+1))
	if err == nil && len(body) > maxBodyBytes {
		return nil, &tooLargeError{-1}
	}
	return body, err
}

// contentLength is the body's length, -1 when no header gives it. Lengths that
// disagree, or are not plain digits, are refused.
func contentLength(resp *httpResponse) (int64, error) {
	n := int64(-1)
	for _, f := range resp.header {
		if !strings.EqualFold(f.name, "Content-Length") {
			continue
		}
		v, err := strconv.ParseUint(f.value, 10, 63) // digits only: no sign, no spaces
		if err != nil || (n >= 0 && int64(v) != n) {
			return 0, fmt.Errorf("bad Content-Length %q", truncate(f.value, 64))
		}
		n = int64(v)
	}
	return n, nil
}

// readN reads a body of n bytes, at most maxBodyBytes, into a buffer from bodies.
func readN(r io.Reader, n int64, bodies *reusedBuffer) ([]byte, error) {
	body := bodies.take(int(n))
	if k, err := io.ReadFull(r, body); err != nil {
		bodies.give(body)
		return nil, fmt.Errorf("body cut off after %d of %d bytes: %w", k, n, err)
	}
	return body, nil
}

// readChunked reads a chunked body of at most maxBodyBytes and discards any
// trailers.
func readChunked(r *bufio.Reader) ([]byte, error) {
	var body bytes.Buffer
	budget := maxHeaderBytes // for the trailers
	for {
		lineBudget := maxChunkLine
		line, err := readLine(r, &lineBudget)
		if err != nil {
			return nil, err
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseUint(strings.TrimSpace(sizeText), 16, 63)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size %q", truncate(line, 64))
		}
		if size == 0 {
			for { // trailers, up to the blank line
				line, err := readLine(r, &budget)
				if err != nil {
					return nil, err
				}
				if line == "" {
					return body.Bytes(), nil
				}
			}
		}
		if size > uint64(maxBodyBytes-body.Len()) {
			return nil, &tooLargeError{-1}
		}
		if _, err := io.CopyN(&body, r, int64(size)); err != nil {
			return nil, fmt.Errorf("chunk: %w", io.ErrUnexpectedEOF)
		}
		lineBudget = 2
		if line, err := readLine(r, &lineBudget); err != nil || line != "" {
			return nil, errors.New("chunk not followed by CRLF")
		}
	}
}

// readLine reads one CRLF- or LF-terminated line, charging it to budget.
func readLine(r *bufio.Reader, budget *int) (string, error) {
	var long []byte
	for {
		frag, err := r.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", errors.New("header section too large")
		}
		if err == bufio.ErrBufferFull {
			long = append(long, frag...)
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if long != nil {
			frag = append(long, frag...)
		}
		frag = bytes.TrimSuffix(frag[:len(frag)-1], []byte{'\r'})
		return string(frag), nil
	}
}

// parseStatusLine reads "HTTP/1.1 200 OK".
func parseStatusLine(line string) (proto string, status int, ok bool) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return "", 0, false
	}
	code, _, _ := strings.Cut(rest, " ")
	if len(code) != 3 {
		return "", 0, false
	}
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 {
		return "", 0, false
	}
	return proto, status, true
}

// hasToken tells whether a comma-separated header value lists token.
func hasToken(value, token string) bool {
	for part := range strings.SplitSeq(value, ",") {
		if strings.EqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}

// validHeaderValue refuses what would end a header line early or smuggle one.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
