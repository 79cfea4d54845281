package httpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestStreamPassesALargeBodyOnWholeAndKeepsBothConnections(t *testing.T) {
	body := randomBody(300 << 10)
	src, srcConns := streamSource(t, body, 0)
	dst, got, dstConns := streamDestination(t)
	for i := range 2 {
		resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Stream == nil || resp.Body != nil || resp.Stream.size != int64(len(body)) {
			t.Fatalf("round %d: a %d-byte body was not left on its connection: %+v", i, len(body), resp)
		}
		posted, err := dst.Do(context.Background(), &Request{Method: "POST", Path: "/invoke", Stream: resp.Stream})
		if err != nil || posted.Status != 202 {
			t.Fatalf("round %d: post = %v, %v", i, posted, err)
		}
		resp.Stream.Finish()
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
	resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil || resp.Stream != nil || string(resp.Body) != "small" {
		t.Fatalf("got %+v, %v; want the body read whole", resp, err)
	}
}

func TestStreamCutOffAbandonsTheRequestItWasPassedOnIn(t *testing.T) {
	body := randomBody(300 << 10)
	src, srcConns := streamSource(t, body, 100<<10)
	dst, got, _ := streamDestination(t)
	resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dst.Do(context.Background(), &Request{Method: "POST", Path: "/invoke", Stream: resp.Stream})
	var ce *CutError
	if !errors.As(err, &ce) || ce.Read != 100<<10 || ce.Size != int64(len(body)) || errors.Is(err, errNotSent) {
		t.Fatalf("post = %v; want a cutError after %d of %d bytes", err, 100<<10, len(body))
	}
	r := <-got
	if r.contentLength != int64(len(body)) || len(r.body) != 100<<10 || !bytes.Equal(r.body, body[:100<<10]) {
		t.Errorf("destination got %d bytes of a %d-byte request; want the %d bytes that came, then the connection closed",
			len(r.body), r.contentLength, 100<<10)
	}
	if dst.popIdle() != nil {
		t.Error("the abandoned request's connection was kept for the next request")
	}
	resp.Stream.Finish()
	again, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	again.Stream.Finish()
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
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(MaxBodyBytes)+"\r\n\r\n"+
					strings.Repeat("x", 1<<20))
				<-answered
				io.WriteString(c, strings.Repeat("x", MaxBodyBytes-1<<20))
			}()
		}
	}()
	src := NewClient(ln.Addr().String())
	resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := NewClient(srv.Listener.Addr().String()).Do(context.Background(),
		&Request{Method: "POST", Path: "/response", Stream: resp.Stream})
	if err != nil || answer.Status != 413 {
		t.Fatalf("got %v, %v; want the 413", answer, err)
	}
	if resp.Stream.left == 0 {
		t.Fatal("the whole body went through; the test proves nothing")
	}
	resp.Stream.Finish()
	if _, err := src.Do(context.Background(), &Request{Method: "GET", Path: "/next"}); err != nil {
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
	src := NewClient(stallingPeer(t, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n"+strings.Repeat("x", 100000)))
	resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil {
		t.Fatal(err)
	}
	dst, got, _ := streamDestination(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = dst.Do(ctx, &Request{Method: "POST", Path: "/invoke", Stream: resp.Stream})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post = %v; want the context's deadline", err)
	}
	if r := <-got; len(r.body) >= 300000 {
		t.Errorf("destination got the whole body")
	}
	if !resp.Stream.poisoned || resp.Stream.left == 0 {
		t.Errorf("stream after cancel: poisoned %v, %d bytes left; want poisoned with bytes left", resp.Stream.poisoned, resp.Stream.left)
	}
	resp.Stream.Finish()
	if src.popIdle() != nil {
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
	dst := NewClient(ln.Addr().String())
	for range 100 {
		resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
		if err != nil || resp.Stream == nil {
			t.Fatalf("got %+v, %v; want a stream", resp, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-bodyIn; cancel() }()
		if _, err := dst.Do(ctx, &Request{Method: "POST", Path: "/invoke", Stream: resp.Stream}); !errors.Is(err, context.Canceled) {
			t.Fatalf("post = %v; want the cancellation", err)
		}
		resp.Stream.Finish()
	}
}

func TestReadStreamEndsWhenCancelled(t *testing.T) {
	// A large error body Deno stops sending halfway, and the environment
	// shuts down with no deadline: reading it must end, and its connection
	// must not serve again.
	c := NewClient(stallingPeer(t, "HTTP/1.1 200 OK\r\nLambda-Runtime-Function-Error-Type: E\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 1000)))
	resp, err := c.DoStream(context.Background(), &Request{Method: "POST", Path: "/invoke", Body: []byte("{}")})
	if err != nil || resp.Stream == nil {
		t.Fatalf("got %+v, %v; want a stream", resp, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ReadStream(ctx, resp); err == nil {
		t.Fatal("readStream of a stalled body returned no error after cancel")
	}
	if c.popIdle() != nil {
		t.Error("the stalled body's connection was kept for the next request")
	}
}

func TestStreamSourceIsLeftAloneOnceItsBodyWentOut(t *testing.T) {
	// runtime1's streamed result: the event went to Deno whole, serve finished
	// its stream and posts on the Runtime API's connection again, while the
	// bridge request still awaits its answer. Ending that request must not
	// touch the connection the event came on.
	body := randomBody(300 << 10)
	posted, answer := make(chan struct{}), make(chan struct{})
	addr, conns := rawServer(t, func(_ int, req *http.Request, _ string) string {
		if req.URL.Path == "/next" {
			return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
		}
		posted <- struct{}{}
		<-answer
		return "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	})
	bridge, _ := rawServer(t, func(int, *http.Request, string) string {
		select {} // takes the event, never answers
	})
	src := NewClient(addr)
	resp, err := src.DoStream(context.Background(), &Request{Method: "GET", Path: "/next"})
	if err != nil || resp.Stream == nil {
		t.Fatalf("got %+v, %v; want a stream", resp, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sent, exchanged := make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := NewClient(bridge).DoStream(ctx, &Request{Method: "POST", Path: "/invoke", Stream: resp.Stream,
			Sent: func() { close(sent) }})
		exchanged <- err
	}()
	<-sent
	resp.Stream.Finish() // the connection goes back for the post
	result := make(chan error, 1)
	go func() {
		_, err := src.Do(context.Background(), &Request{Method: "POST", Path: "/response", Body: []byte("result")})
		result <- err
	}()
	<-posted
	cancel() // the invocation is over: its bridge request ends
	if err := <-exchanged; !errors.Is(err, context.Canceled) {
		t.Fatalf("the bridge request ended with %v; want the cancellation", err)
	}
	close(answer)
	if err := <-result; err != nil {
		t.Fatalf("the post on the event's connection failed: %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the Runtime API saw %d connections; want the one, reused", n)
	}
}
