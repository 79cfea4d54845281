package httpc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPClientBodies(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
		{"chunked, extensions and trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhe\r\n3\r\nllo\r\n0\r\nT: v\r\n\r\n"},
		{"until the connection ends", "HTTP/1.1 200 OK\r\n\r\nhello" + hangUpMark},
		{"after a 100 Continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"},
		{"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello"},
		{"as many header fields as allowed", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaderFields-1) +
			"Content-Length: 5\r\n\r\nhello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := rawServer(t, func(int, *http.Request, string) string { return tc.answer })
			resp, err := NewClient(addr).Do(context.Background(), &Request{Method: "GET", Path: "/"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != "hello" {
				t.Errorf("got %d %q, want 200 \"hello\"", resp.Status, resp.Body)
			}
		})
	}
}

func TestHTTPClientWritesRequests(t *testing.T) {
	got := make(chan *http.Request, 2)
	bodies := make(chan string, 2)
	addr, _ := rawServer(t, func(_ int, req *http.Request, body string) string {
		got <- req
		bodies <- body
		return "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	})
	c := NewClient(addr)
	req := &Request{Method: "POST", Path: "/a/b", Body: []byte(`{"x":1}`),
		Header: []Field{{"Content-Type", "application/json"}, {"X-One", "1"}}}
	if _, err := c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.Method != "POST" || r.URL.Path != "/a/b" || r.Host != addr || r.ContentLength != 7 ||
		r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-One") != "1" || <-bodies != `{"x":1}` {
		t.Errorf("server got %s %s host %q length %d headers %v", r.Method, r.URL.Path, r.Host, r.ContentLength, r.Header)
	}
	if _, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/empty"}); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.ContentLength != 0 || r.Header.Get("Content-Length") != "0" || <-bodies != "" {
		t.Errorf("an empty POST went out with Content-Length %q", r.Header.Get("Content-Length"))
	}
}

func TestHTTPClientKeepsOneConnection(t *testing.T) {
	addr, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100_000)) // chunked: no length was set
	})
	c := NewClient(addr)
	for range 5 {
		resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != 100_000 {
			t.Fatalf("got %d bytes, want 100000", len(resp.Body))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 requests used %d connections, want 1", n)
	}
}

// Concurrent invocations (Managed Instances) each hold a connection: once
// answered, up to MaxIdle are kept, so the next round dials none.
func TestHTTPClientKeepsAConnectionPerConcurrentRequest(t *testing.T) {
	const concurrent = 8
	var arrived sync.WaitGroup
	arrived.Add(concurrent)
	release := make(chan struct{})
	addr, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			arrived.Done()
			<-release // every request is in flight at once
		}
		io.WriteString(w, "ok")
	})
	c := NewClient(addr)
	c.MaxIdle = concurrent
	round := func(path string) {
		var wg sync.WaitGroup
		for range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: path}); err != nil {
					t.Error(err)
				}
			}()
		}
		if path == "/hold" {
			arrived.Wait()
			close(release)
		}
		wg.Wait()
	}
	round("/hold")
	if n := conns.Load(); n != concurrent {
		t.Fatalf("%d requests at once used %d connections, want %d", concurrent, n, concurrent)
	}
	round("/")
	round("/")
	if n := conns.Load(); n != concurrent {
		t.Errorf("two more rounds dialled %d connections, want none", n-concurrent)
	}
}

func TestHTTPClientRedialsWhenThePeerClosedTheIdleConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	c := NewClient(srv.Listener.Addr().String())
	for i := range 3 {
		resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/", Body: []byte("x")})
		if err != nil || string(resp.Body) != "ok" {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		srv.CloseClientConnections()
	}
}

func TestHTTPClientClosesWhenTold(t *testing.T) {
	addr, conns := rawServer(t, func(int, *http.Request, string) string {
		return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
	})
	c := NewClient(addr)
	for range 3 {
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("3 requests after Connection: close used %d connections, want 3", n)
	}
}

func TestHTTPClientFailures(t *testing.T) {
	for _, tc := range []struct{ name, answer, want string }{
		{"cut off mid-body, not retried", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" + hangUpMark, "unexpected EOF"},
		{"cut off mid-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc" + hangUpMark, "unexpected EOF"},
		{"no answer at all", "", "connection closed before any answer"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
		{"bad header", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed header line"},
		{"huge headers", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n", "header section too large"},
		{"too many header fields", "HTTP/1.1 200 OK\r\n" + strings.Repeat("a:\n", maxHeaderFields) +
			"Content-Length: 0\r\n\r\n", "more than 100 header fields"},
		{"unknown coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"},
		{"chunked under another coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", "unsupported Transfer-Encoding"},
		{"lengths that disagree", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", "bad Content-Length"},
		{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", "bad Content-Length"},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "switched protocols"},
		{"control character in a header", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", "malformed header line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := rawServer(t, func(int, *http.Request, string) string { return tc.answer })
			_, err := NewClient(addr).Do(context.Background(), &Request{Method: "GET", Path: "/"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestHTTPClientCancelAbortsABlockedRequest(t *testing.T) {
	addr, _ := rawServer(t, func(int, *http.Request, string) string {
		select {} // never answers, like GET /next with no event
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := NewClient(addr).Do(ctx, &Request{Method: "GET", Path: "/next"})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not end when its context was cancelled")
	}
}

func TestHTTPClientRefusesHeaderInjection(t *testing.T) {
	addr, conns := rawServer(t, func(int, *http.Request, string) string { return "HTTP/1.1 200 OK\r\n\r\n" })
	_, err := NewClient(addr).Do(context.Background(), &Request{Method: "GET", Path: "/",
		Header: []Field{{"X", "a\r\nInjected: 1"}}})
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("got %v, want a refusal", err)
	}
	if conns.Load() != 0 {
		t.Error("the request went out anyway")
	}
}

func TestHTTPClientReadsManySmallChunks(t *testing.T) {
	// Chunk framing is not charged to the header section's budget.
	answer := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1\r\nx\r\n", 300_000) + "0\r\n\r\n"
	addr, _ := rawServer(t, func(int, *http.Request, string) string { return answer })
	resp, err := NewClient(addr).Do(context.Background(), &Request{Method: "GET", Path: "/"})
	if err != nil || len(resp.Body) != 300_000 {
		t.Fatalf("got %v, %v", resp, err)
	}
}

func TestHTTPClientGetsA413ForABodyThePeerStoppedReading(t *testing.T) {
	// As AWS's emulator does with a response over 6 MB: it reads part of the
	// body, answers 413 and closes. The answer must come back, and the POST must
	// not be sent again.
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			posts.Add(1)
			io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "event")
	}))
	defer srv.Close()
	c := NewClient(srv.Listener.Addr().String())
	if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/next"}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/response", Body: make([]byte, 20<<20)})
	if err != nil || resp.Status != 413 {
		t.Fatalf("got %v, %v; want a 413", resp, err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the POST reached the server %d times, want 1", n)
	}
}

func TestHTTPClientNeverSendsAPostTwice(t *testing.T) {
	// The peer took the POST, then hung up mid-answer or without a word: it
	// may have acted on it, so it must not get it again.
	for _, answer := range []string{"HTTP/1.1 202 Accepted\r\nContent-Len" + hangUpMark, ""} {
		var requests atomic.Int32
		addr, _ := rawServer(t, func(n int, _ *http.Request, _ string) string {
			requests.Store(int32(n))
			if n == 1 {
				return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
			}
			return answer
		})
		c := NewClient(addr)
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/next"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/response", Body: []byte("{}")}); err == nil {
			t.Errorf("answer %q was taken for an answer", answer)
		}
		if n := requests.Load(); n != 2 {
			t.Errorf("answer %q: the server got %d requests, want 2", answer, n)
		}
	}
}

func TestHTTPClientDropsAConnectionThePeerWroteToUnasked(t *testing.T) {
	// A stray answer (a 408 on the peer's idle timeout, say) after the first
	// one must not be taken for the answer to the next request.
	addr, conns := rawServer(t, func(n int, _ *http.Request, _ string) string {
		if n == 1 {
			return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"
	})
	c := NewClient(addr)
	for _, want := range []string{"1", "2"} {
		resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"})
		if err != nil || resp.Status != 200 || string(resp.Body) != want {
			t.Fatalf("got %v, %v; want 200 %q", resp, err, want)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("used %d connections, want 2: the one with a stray answer is dropped", n)
	}
}

// countingServer serves handler on loopback and counts the connections made to it.
func countingServer(t *testing.T, handler http.HandlerFunc) (addr string, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), conns
}

func TestHTTPClientSaysWhenTheRequestWentOutBeforeTheAnswer(t *testing.T) {
	sent := make(chan struct{})
	addr, _ := rawServer(t, func(_ int, _ *http.Request, body string) string {
		select { // the answer comes only once the client has said the request went out
		case <-sent:
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		case <-time.After(5 * time.Second):
			return "HTTP/1.1 500 Not Told\r\nContent-Length: 0\r\n\r\n"
		}
	})
	calls := 0
	req := &Request{Method: "POST", Path: "/", Body: []byte("event"), Sent: func() {
		calls++
		close(sent)
	}}
	resp, err := NewClient(addr).Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || calls != 1 {
		t.Errorf("got %d with Sent called %d times, want 200 and once", resp.Status, calls)
	}
}
