//go:build nethttp

package httpc

// The same client on net/http, built with -tags nethttp, to measure against
// the own one (docs/benchmarks.md).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	MaxBodyBytes = 8 << 20
	streamMin    = reusedMin
)

type Field struct{ Name, Value string }

type Request struct {
	Method, Path string
	Header       []Field
	Body         []byte
	Stream       *Stream
	BodyDeadline func(*Response) time.Time
}

type Response struct {
	Status int
	Header []Field
	Body   []byte
	Stream *Stream
}

func (r *Response) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

type TooLargeError struct{ Size int64 }

func (e *TooLargeError) Error() string { return fmt.Sprintf("body over %d bytes", MaxBodyBytes) }

type CutError struct {
	Read, Size int64
	err        error
}

func (e *CutError) Error() string {
	return fmt.Sprintf("body cut off after %d of %d bytes: %v", e.Read, e.Size, e.err)
}
func (e *CutError) Unwrap() error { return e.err }

func AsCut(err error) *CutError {
	var ce *CutError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

type Client struct {
	addr   string
	Bodies *Buffer
	hc     *http.Client
}

func NewClient(addr string) *Client {
	tr := &http.Transport{DialContext: (&net.Dialer{}).DialContext, MaxIdleConnsPerHost: 2,
		DisableCompression: true}
	return &Client{addr: addr, Bodies: &Buffer{}, hc: &http.Client{Transport: tr}}
}

func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, false)
}

func (c *Client) DoStream(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, true)
}

func (c *Client) send(ctx context.Context, req *Request, stream bool) (*Response, error) {
	var body io.Reader
	var length int64
	switch {
	case req.Stream != nil:
		body, length = req.Stream, req.Stream.left
	case req.Body != nil || req.Method == "POST":
		body, length = bytes.NewReader(req.Body), int64(len(req.Body))
	}
	// The request lives as long as its answer's body, which a stream keeps
	// past ctx: ctx ends it only until the answer's head is in.
	hrCtx, hrCancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, hrCancel)
	hr, err := http.NewRequestWithContext(hrCtx, req.Method, "http://"+c.addr+req.Path, body)
	if err != nil {
		hrCancel()
		return nil, err
	}
	hr.ContentLength = length
	if body != nil && length == 0 {
		hr.Body = http.NoBody
	}
	for _, f := range req.Header {
		if !ValidHeaderValue(f.Value) {
			return nil, fmt.Errorf("%s %s: header %s has a line break or control character", req.Method, req.Path, f.Name)
		}
		hr.Header.Add(f.Name, f.Value)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		hrCancel()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
	}
	out := &Response{Status: resp.StatusCode}
	for name, values := range resp.Header {
		for _, v := range values {
			out.Header = append(out.Header, Field{name, v})
		}
	}
	var timer *time.Timer
	var fired sync.Once
	timedOut := false
	if req.BodyDeadline != nil {
		if d := req.BodyDeadline(out); !d.IsZero() {
			timer = time.AfterFunc(time.Until(d), func() { fired.Do(func() { timedOut = true }); resp.Body.Close() })
		}
	}
	cl := resp.ContentLength
	if cl > MaxBodyBytes {
		resp.Body.Close()
		return nil, &TooLargeError{cl}
	}
	if stream && cl >= streamMin {
		if timer != nil {
			timer.Stop()
		}
		stop()
		out.Stream = &Stream{body: resp.Body, size: cl, left: cl, owner: c, cancel: hrCancel}
		return out, nil
	}
	defer hrCancel()
	defer stop()
	var b []byte
	if cl >= 0 {
		b = c.Bodies.Take(int(cl))
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
		if err == nil && len(b) > MaxBodyBytes {
			err = &TooLargeError{-1}
		}
	}
	if timer != nil {
		timer.Stop()
	}
	resp.Body.Close()
	if err != nil {
		fired.Do(func() {})
		if timedOut {
			err = os.ErrDeadlineExceeded
		}
		return out, fmt.Errorf("%s %s: body: %w", req.Method, req.Path, err)
	}
	out.Body = b
	return out, nil
}

type Stream struct {
	body       io.ReadCloser
	owner      *Client
	size, left int64
	timer      *time.Timer
	cancel     context.CancelFunc
}

func (s *Stream) Size() int64 { return s.size }

func (s *Stream) SetReadDeadline(t time.Time) error {
	s.timer = time.AfterFunc(time.Until(t), func() { s.body.Close() })
	return nil
}

// Read passes the body on, as the request body of another request; a body
// that ends before its length is a *CutError.
func (s *Stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.body.Read(p)
	s.left -= int64(n)
	if err != nil && s.left > 0 {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, &CutError{s.size - s.left, s.size, err}
	}
	if s.left == 0 {
		return n, io.EOF
	}
	return n, nil
}

func (s *Stream) ReadAll() ([]byte, error) {
	b := s.owner.Bodies.Take(int(s.left))
	if _, err := io.ReadFull(s, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Stream) Finish() {
	if s == nil || s.body == nil {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.body.Close()
	s.cancel()
	s.body = nil
}

func ReadStream(ctx context.Context, resp *Response) error {
	s := resp.Stream
	if s == nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { s.body.Close() })
	body, err := s.ReadAll()
	stop()
	s.Finish()
	resp.Body, resp.Stream = body, nil
	return err
}
