package httpc

// Reading answers: the status line, headers and body of a peer that is not
// trusted (runtime1's bridge answers with what the function's code shaped),
// each part bounded.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits on what a peer may send. Both peers are untrusted: runtime1's bridge
// answers with what the function's code shaped.
const (
	maxHeaderBytes = 1 << 20 // the whole header section; Lambda's largest header is under 8 KB
	// maxHeaderFields bounds the fields of a header section, each kept as a
	// name and a value: a 1 MiB section of three-byte lines would otherwise
	// hold over ten times its size. The Runtime API sends about ten fields,
	// runtime.js a handful; Apache and hyper refuse more than 100 too.
	maxHeaderFields = 100
	readBufferSize  = 16 << 10
	maxChunkLine    = 4 << 10 // a chunk's size line, extensions included
	// MaxBodyBytes bounds a body: a little over Lambda's 6 MB payload limit,
	// each way. A 1 MB body is read into a buffer of its size, not doubled.
	MaxBodyBytes = 8 << 20
)

// TooLargeError is a body over maxBodyBytes, which is not read.
type TooLargeError struct {
	Size int64 // its Content-Length, or -1 when only reading it showed
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("body over %d bytes", MaxBodyBytes)
	}
	return fmt.Sprintf("body of %d bytes, over %d", e.Size, MaxBodyBytes)
}

// readResponse reads a status line, headers and body, skipping any interim
// 1xx answers.
func (pc *httpConn) readResponse(ctx context.Context, req *Request, stream bool) (*Response, error) {
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
		resp := &Response{Status: status}
		for {
			line, err := readLine(pc.r, &budget)
			if err != nil {
				return nil, err
			}
			if line == "" {
				break
			}
			name, value, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") || !ValidHeaderValue(value) {
				return nil, fmt.Errorf("malformed header line %q", truncate(line, 64))
			}
			if len(resp.Header) == maxHeaderFields {
				return nil, fmt.Errorf("more than %d header fields", maxHeaderFields)
			}
			resp.Header = append(resp.Header, Field{name, strings.Trim(value, " \t")})
		}
		if status == 101 {
			return nil, errors.New("the peer switched protocols (101)")
		}
		if status >= 100 && status < 200 {
			continue
		}
		if connection := resp.Get("Connection"); hasToken(connection, "close") ||
			(proto == "HTTP/1.0" && !hasToken(connection, "keep-alive")) {
			pc.mustClose = true
		}
		var deadline time.Time
		if req.BodyDeadline != nil {
			deadline = req.BodyDeadline(resp)
			pc.conn.SetReadDeadline(deadline)
		}
		resp.Body, err = pc.readBody(ctx, req, resp, stream)
		if !deadline.IsZero() {
			pc.conn.SetReadDeadline(time.Time{}) // a streamed body is timed by its reader
		}
		return resp, err
	}
}

func (pc *httpConn) readBody(ctx context.Context, req *Request, resp *Response, stream bool) ([]byte, error) {
	if req.Method == "HEAD" || resp.Status == 204 || resp.Status == 304 {
		return nil, nil
	}
	if te := resp.Get("Transfer-Encoding"); te != "" {
		if !strings.EqualFold(strings.TrimSpace(te), "chunked") {
			return nil, fmt.Errorf("unsupported Transfer-Encoding %q", te)
		}
		if resp.Get("Content-Length") != "" {
			pc.mustClose = true // framed two ways: do not trust what follows
		}
		if stream && req.StreamChunks {
			resp.Stream = &Stream{pc: pc, size: -1, left: -1, chunks: &chunkedReader{r: pc.r}}
			return nil, nil
		}
		return pc.bodies.held(ctx, pc.conn, func() ([]byte, error) { return readChunked(pc.r) })
	}
	cl, err := contentLength(resp)
	switch {
	case err != nil:
		return nil, err
	case cl > MaxBodyBytes:
		return nil, &TooLargeError{cl}
	case stream && cl >= streamMin:
		resp.Stream = &Stream{pc: pc, size: cl, left: cl}
		return nil, nil
	case cl >= 0:
		return readN(ctx, pc.r, pc.conn, cl, pc.bodies)
	}
	pc.mustClose = true // the body ends where the connection does
	return pc.bodies.held(ctx, pc.conn, func() ([]byte, error) {
		body, err := io.ReadAll(io.LimitReader(pc.r, MaxBodyBytes+1))
		if err == nil && len(body) > MaxBodyBytes {
			return nil, &TooLargeError{-1}
		}
		return body, err
	})
}

// contentLength is the body's length, -1 when no header gives it. Lengths that
// disagree, or are not plain digits, are refused.
func contentLength(resp *Response) (int64, error) {
	n := int64(-1)
	for _, f := range resp.Header {
		if !strings.EqualFold(f.Name, "Content-Length") {
			continue
		}
		v, err := strconv.ParseUint(f.Value, 10, 63) // digits only: no sign, no spaces
		if err != nil || (n >= 0 && int64(v) != n) {
			return 0, fmt.Errorf("bad Content-Length %q", truncate(f.Value, 64))
		}
		n = int64(v)
	}
	return n, nil
}

// readN reads a body of n bytes, at most maxBodyBytes, into a buffer from
// bodies, once they have room for it.
func readN(ctx context.Context, r io.Reader, conn Deadliner, n int64, bodies *Buffer) ([]byte, error) {
	body, err := bodies.Take(ctx, int(n), conn)
	if err != nil {
		return nil, err
	}
	if k, err := io.ReadFull(r, body); err != nil {
		bodies.Give(body)
		if held := bodies.HeldBack(ctx, err, n); held != err {
			return nil, held
		}
		return nil, fmt.Errorf("body cut off after %d of %d bytes: %w", k, n, err)
	}
	return body, nil
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

// ValidHeaderValue refuses what would end a header line early or smuggle one.
func ValidHeaderValue(v string) bool {
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
