package httpc

// Peers for the tests: raw servers whose answers each test writes byte by
// byte, streams cut or stalled on purpose.

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// hangUpMark ends a rawServer answer that closes the connection once written.
const hangUpMark = "\x00hang up"

// rawServer accepts connections on loopback and lets answer write whatever
// bytes it likes in reply to each request, which net/http's server would not.
func rawServer(t *testing.T, answer func(n int, req *http.Request, body string) string) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int32{}
	var requests atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(req.Body)
					out := answer(int(requests.Add(1)), req, string(body))
					if out == "" { // hang up without a word
						return
					}
					out, hangUp := strings.CutSuffix(out, hangUpMark)
					if _, err := io.WriteString(c, out); err != nil || hangUp {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// streamSource answers every request with body, in full or, when cutAt is
// positive, only its first cutAt bytes before hanging up.
func streamSource(t *testing.T, body []byte, cutAt int) (*Client, func() int32) {
	t.Helper()
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	addr, conns := rawServer(t, func(int, *http.Request, string) string {
		if cutAt > 0 {
			return head + string(body[:cutAt]) + hangUpMark
		}
		return head + string(body)
	})
	return NewClient(addr), conns.Load
}

// received is what a destination server saw of one request.
type received struct {
	contentLength int64
	body          []byte
}

// streamDestination reads each request's body to its end or to the
// connection's, and answers 202 to the complete ones.
func streamDestination(t *testing.T) (*Client, <-chan received, func() int32) {
	t.Helper()
	got := make(chan received, 4)
	addr, conns := rawServer(t, func(_ int, req *http.Request, body string) string {
		got <- received{req.ContentLength, []byte(body)}
		if int64(len(body)) < req.ContentLength {
			return "" // an incomplete request gets no answer
		}
		return "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	})
	return NewClient(addr), got, conns.Load
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
