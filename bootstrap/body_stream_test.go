package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// streamSource answers every request with body, in full or, when cutAt is
// positive, only its first cutAt bytes before hanging up.
func streamSource(t *testing.T, body []byte, cutAt int) (*httpClient, func() int32) {
	t.Helper()
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	addr, conns := rawServer(t, func(int, *http.Request, string) string {
		if cutAt > 0 {
			return head + string(body[:cutAt]) + hangUpMark
		}
		return head + string(body)
	})
	return newHTTPClient(addr), conns.Load
}

// received is what a destination server saw of one request.
type received struct {
	contentLength int64
	body          []byte
}

// streamDestination reads each request's body to its end or to the
// connection's, and answers 202 to the complete ones.
func streamDestination(t *testing.T) (*httpClient, <-chan received, func() int32) {
	t.Helper()
	got := make(chan received, 4)
	addr, conns := rawServer(t, func(_ int, req *http.Request, body string) string {
		got <- received{req.ContentLength, []byte(body)}
		if int64(len(body)) < req.ContentLength {
			return "" // an incomplete request gets no answer
		}
		return "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	})
	return newHTTPClient(addr), got, conns.Load
}

// stallingPeer answers its first request with answer, a body shorter than its
// Content-Length, and then neither sends more nor hangs up until the test ends.
func stallingPeer(t *testing.T, answer string) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall); ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, answer)
		<-stall
	}()
	return ln.Addr().String()
}

func randomBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func TestStreamPassesALargeBodyOnWholeAndKeepsBothConnections(t *testing.T) {
	body := randomBody(300 << 10)
	src, srcConns := streamSource(t, body, 0)
	dst, got, dstConns := streamDestination(t)
	for i := range 2 {
		resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.stream == nil || resp.body != nil || resp.stream.size != int64(len(body)) {
			t.Fatalf("round %d: a %d-byte body was not left on its connection: %+v", i, len(body), resp)
		}
		posted, err := dst.do(context.Background(), &httpRequest{method: "POST", path: "/invoke", stream: resp.stream})
		if err != nil || posted.status != 202 {
			t.Fatalf("round %d: post = %v, %v", i, posted, err)
		}
		resp.stream.finish()
		if r := <-got; r.contentLength != int64(len(body)) || !bytes.Equal(r.body, body) {
			t.Fatalf("round %d: destination got %d of %d bytes (Content-Length %d), or other bytes",
				i, len(r.body), len(body), r.contentLength)
		}
	}
	if n, m := srcConns(), dstConns(); n != 1 || m != 1 {
		t.Errorf("connections: %d to the source and %d to the destination, want one each, kept alive", n, m)
	}
}

func TestStreamLeavesSmallBodiesWhole(t *testing.T) {
	src, _ := streamSource(t, []byte("small"), 0)
	resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
	if err != nil || resp.stream != nil || string(resp.body) != "small" {
		t.Fatalf("got %+v, %v; want the body read whole", resp, err)
	}
}

func TestStreamCutOffAbandonsTheRequestItWasPassedOnIn(t *testing.T) {
	body := randomBody(300 << 10)
	src, srcConns := streamSource(t, body, 100<<10)
	dst, got, _ := streamDestination(t)
	resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dst.do(context.Background(), &httpRequest{method: "POST", path: "/invoke", stream: resp.stream})
	var ce *cutError
	if !errors.As(err, &ce) || ce.read != 100<<10 || ce.size != int64(len(body)) || errors.Is(err, errNotSent) {
		t.Fatalf("post = %v; want a cutError after %d of %d bytes", err, 100<<10, len(body))
	}
	r := <-got
	if r.contentLength != int64(len(body)) || len(r.body) != 100<<10 || !bytes.Equal(r.body, body[:100<<10]) {
		t.Errorf("destination got %d bytes of a %d-byte request; want the %d bytes that came, then the connection closed",
			len(r.body), r.contentLength, 100<<10)
	}
	if dst.swapIdle(nil) != nil {
		t.Error("the abandoned request's connection was kept for the next request")
	}
	resp.stream.finish()
	again, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	again.stream.finish()
	if n := srcConns(); n != 2 {
		t.Errorf("the cut-off body's connection was reused (%d connections, want 2)", n)
	}
}

func TestStreamAReceiverThatAnswersEarlyIsHeard(t *testing.T) {
	// AWS's emulator answers a response over 6 MB with 413 without reading
	// all of it. The answer counts, and the rest of the body is dropped with
	// its connection.
	answered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.(http.Flusher).Flush()
		close(answered)
	}))
	defer srv.Close()
	// The source sends the first MiB of its body, and the rest only once the
	// 413 is out: the body cannot have gone through whole, however large the
	// kernel's socket buffers. Its second answer is a small one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var srcConns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := srcConns.Add(1)
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				if n > 1 {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(maxBodyBytes)+"\r\n\r\n"+
					strings.Repeat("x", 1<<20))
				<-answered
				io.WriteString(c, strings.Repeat("x", maxBodyBytes-1<<20))
			}()
		}
	}()
	src := newHTTPClient(ln.Addr().String())
	resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := newHTTPClient(srv.Listener.Addr().String()).do(context.Background(),
		&httpRequest{method: "POST", path: "/response", stream: resp.stream})
	if err != nil || answer.status != 413 {
		t.Fatalf("got %v, %v; want the 413", answer, err)
	}
	if resp.stream.left == 0 {
		t.Fatal("the whole body went through; the test proves nothing")
	}
	resp.stream.finish()
	if _, err := src.do(context.Background(), &httpRequest{method: "GET", path: "/next"}); err != nil {
		t.Fatal(err)
	}
	if n := srcConns.Load(); n != 2 {
		t.Errorf("the half-read body's connection was reused (%d connections, want 2)", n)
	}
}

func TestStreamCancelEndsABodyThatStalls(t *testing.T) {
	// The sender stops halfway without hanging up: the request's context
	// (an invocation's deadline, say) must still end it, and neither
	// connection may serve again.
	src := newHTTPClient(stallingPeer(t, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n"+strings.Repeat("x", 100000)))
	resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	dst, got, _ := streamDestination(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = dst.do(ctx, &httpRequest{method: "POST", path: "/invoke", stream: resp.stream})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post = %v; want the context's deadline", err)
	}
	if r := <-got; len(r.body) >= 300000 {
		t.Errorf("destination got the whole body")
	}
	if !resp.stream.poisoned || resp.stream.left == 0 {
		t.Errorf("stream after cancel: poisoned %v, %d bytes left; want poisoned with bytes left", resp.stream.poisoned, resp.stream.left)
	}
	resp.stream.finish()
	if src.swapIdle(nil) != nil {
		t.Error("the stalled body's connection was kept")
	}
}

func TestStreamCancelWhileTheAnswerIsAwaitedLeavesTheBodyToItsOwner(t *testing.T) {
	// The event went out whole and Deno is running the handler when ctx ends
	// (SIGTERM). Once do returns, serve finishes the event's stream at once:
	// nothing of do's may still touch it. The race detector (deno task ok runs
	// go test -race) catches the cancel hook reaching it late.
	body := randomBody(300 << 10)
	src, _ := streamSource(t, body, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bodyIn := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				bodyIn <- struct{}{}
				io.Copy(io.Discard, c) // never answers
			}()
		}
	}()
	dst := newHTTPClient(ln.Addr().String())
	for range 100 {
		resp, err := src.doStream(context.Background(), &httpRequest{method: "GET", path: "/next"})
		if err != nil || resp.stream == nil {
			t.Fatalf("got %+v, %v; want a stream", resp, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-bodyIn; cancel() }()
		if _, err := dst.do(ctx, &httpRequest{method: "POST", path: "/invoke", stream: resp.stream}); !errors.Is(err, context.Canceled) {
			t.Fatalf("post = %v; want the cancellation", err)
		}
		resp.stream.finish()
	}
}

func TestReadStreamEndsWhenCancelled(t *testing.T) {
	// A large error body Deno stops sending halfway, and the environment
	// shuts down with no deadline: reading it must end, and its connection
	// must not serve again.
	c := newHTTPClient(stallingPeer(t, "HTTP/1.1 200 OK\r\nLambda-Runtime-Function-Error-Type: E\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 1000)))
	resp, err := c.doStream(context.Background(), &httpRequest{method: "POST", path: "/invoke", body: []byte("{}")})
	if err != nil || resp.stream == nil {
		t.Fatalf("got %+v, %v; want a stream", resp, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := readStream(ctx, resp); err == nil {
		t.Fatal("readStream of a stalled body returned no error after cancel")
	}
	if c.swapIdle(nil) != nil {
		t.Error("the stalled body's connection was kept for the next request")
	}
}
