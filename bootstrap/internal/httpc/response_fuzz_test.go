package httpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The HTTP client reads answers from two peers it does not trust: the Runtime
// API, and runtime1's bridge, whose answers the function's code shapes. These
// targets feed the response reader what such a peer could send.

// connOver is a connection whose answers are r's bytes. readResponse reads
// only through the bufio.Reader; conn stays nil, as no request here sets a
// body deadline (the only use readResponse makes of it).
func connOver(r io.Reader) *httpConn {
	return &httpConn{r: bufio.NewReaderSize(r, readBufferSize)}
}

// totalAlloc is the bytes the process has allocated so far.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func FuzzReadResponse(f *testing.F) {
	for _, answer := range []string{
		"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n" +
			"Lambda-Runtime-Deadline-Ms: 1542409706888\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n",
		"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhe\r\n3\r\nllo\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
		"HTTP/1.0 200 OK\r\n\r\nuntil the end",
		"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
		"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
		// Framing a smuggler would try.
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 8388609\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800001\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
		// Headers that would inject or smuggle a line.
		"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nX A: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\tfolded\r\n\r\n",
		"HTTP/1.1 200 OK\r\n" + strings.Repeat("a:\n", 101) + "Content-Length: 0\r\n\r\n",
		// Status lines that are not.
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"",
		"H",
	} {
		f.Add([]byte(answer), false, false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), true, false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n"), false, true)
	f.Fuzz(func(t *testing.T, answer []byte, head, stream bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		before := totalAlloc()
		resp, err := connOver(bytes.NewReader(answer)).readResponse(context.Background(), &Request{Method: method, Path: "/"}, stream)
		// Allocations follow what arrived, except one body buffer of a
		// declared length, which maxBodyBytes bounds; 64 bytes for each byte
		// that arrived covers the header slice of many three-byte header lines.
		if grown, limit := totalAlloc()-before, uint64(MaxBodyBytes+64*len(answer)+1<<20); grown > limit {
			t.Errorf("allocated %d bytes reading a %d-byte answer, want at most %d", grown, len(answer), limit)
		}
		if err != nil { // the caller drops resp, which may hold the head
			var tl *TooLargeError
			if errors.As(err, &tl) && tl.Size >= 0 && tl.Size <= MaxBodyBytes {
				t.Errorf("got %v for a size within the limit", err)
			}
			return
		}
		if resp.Status < 200 || resp.Status > 999 {
			t.Errorf("got status %d, want a final one from 200 to 999", resp.Status)
		}
		if len(resp.Header) > maxHeaderFields {
			t.Errorf("got %d header fields, want at most %d", len(resp.Header), maxHeaderFields)
		}
		for _, h := range resp.Header {
			if h.Name == "" || strings.ContainsAny(h.Name, " \t:\n") {
				t.Errorf("got header name %q", h.Name)
			}
			if strings.ContainsAny(h.Value, "\r\n\x00") || !ValidHeaderValue(h.Value) {
				t.Errorf("got header %s with value %q, want no control characters", h.Name, h.Value)
			}
		}
		if len(resp.Body) > MaxBodyBytes || len(resp.Body) > len(answer) {
			t.Errorf("got a %d-byte body from a %d-byte answer, want at most both it and %d",
				len(resp.Body), len(answer), MaxBodyBytes)
		}
		if (head || resp.Status == 204 || resp.Status == 304) && (resp.Body != nil || resp.Stream != nil) {
			t.Errorf("got a body for %s with status %d, want none", method, resp.Status)
		}
		if s := resp.Stream; s != nil {
			if !stream || resp.Body != nil || s.size < streamMin || s.size > MaxBodyBytes || s.left != s.size {
				t.Errorf("got a stream of %d bytes (%d left, body %d bytes, stream %v), want one from %d to %d and no body",
					s.size, s.left, len(resp.Body), stream, streamMin, MaxBodyBytes)
			}
		}
	})
}

// validTokenName tells whether name is an RFC 9110 token, as a header name is.
func validTokenName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzReadResponseRoundTrip(f *testing.F) {
	f.Add(uint16(0), "OK", "Lambda-Runtime-Aws-Request-Id", "id-1", []byte(`{"a":1}`), false, false, false)
	f.Add(uint16(2), "Accepted", "Content-Type", " application/json\t", []byte{}, true, false, true)
	f.Add(uint16(213), "", "X-Empty", "", []byte("x"), true, true, false)
	f.Add(uint16(4), "No Content", "Etag", `"\x80\xff"`, []byte(nil), false, false, false)
	f.Fuzz(func(t *testing.T, code uint16, reason, name, value string, body []byte, chunked, interim, http10 bool) {
		status := 200 + int(code)%800
		framing := strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding") ||
			strings.EqualFold(name, "Connection")
		if strings.Contains(reason, "\n") || !validTokenName(name) || framing || !ValidHeaderValue(value) {
			t.Skip("not a well-formed response")
		}
		var w bytes.Buffer
		if interim {
			w.WriteString("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n")
		}
		proto := "HTTP/1.1"
		if http10 {
			proto = "HTTP/1.0"
		}
		fmt.Fprintf(&w, "%s %d %s\r\n%s: %s\r\n", proto, status, reason, name, value)
		if http10 {
			w.WriteString("Connection: keep-alive\r\n")
		}
		noBody := status == 204 || status == 304
		switch {
		case noBody:
			w.WriteString("\r\n")
		case chunked:
			w.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			for rest := body; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)/3)
				fmt.Fprintf(&w, "%x\r\n%s\r\n", n, rest[:n])
				rest = rest[n:]
			}
			w.WriteString("0\r\n\r\n")
		default:
			fmt.Fprintf(&w, "Content-Length: %d\r\n\r\n%s", len(body), body)
		}
		// A second answer on the same connection: the first must end exactly
		// where its framing says.
		w.WriteString("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
		pc := connOver(&w)
		resp, err := pc.readResponse(context.Background(), &Request{Method: "POST", Path: "/"}, false)
		if err != nil {
			t.Fatalf("got %v, want the response", err)
		}
		wantBody := body
		if noBody {
			wantBody = nil
		}
		if resp.Status != status || resp.Get(name) != strings.Trim(value, " \t") || !bytes.Equal(resp.Body, wantBody) {
			t.Errorf("got %d %s: %q, body %q; want %d %s: %q, body %q", resp.Status, name, resp.Get(name), resp.Body,
				status, name, strings.Trim(value, " \t"), wantBody)
		}
		if pc.mustClose {
			t.Errorf("got a connection to close after a kept-alive %s answer", proto)
		}
		next, err := pc.readResponse(context.Background(), &Request{Method: "POST", Path: "/"}, false)
		if err != nil || next.Status != 202 || string(next.Body) != "ok" {
			t.Errorf("got the next answer %v, %v; want 202 \"ok\"", next, err)
		}
	})
}

func FuzzParseStatusLine(f *testing.F) {
	for _, line := range []string{"HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 202", "HTTP/1.1 100 Continue",
		"HTTP/1.1 099 x", "HTTP/1.1 +20 x", "HTTP/1.1 -20 x", "HTTP/1.1 2000 x", "HTTP/1.1  200 x", "HTTP/2 200",
		"http/1.1 200 OK", "HTTP/1.1 ２００ OK", "HTTP/1.x 200 OK", ""} {
		f.Add(line, uint16(200), "OK")
	}
	f.Fuzz(func(t *testing.T, line string, code uint16, reason string) {
		proto, status, ok := parseStatusLine(line)
		// The grammar, spelled out: "HTTP/1." and anything up to a space, a
		// space, three ASCII digits not starting with 0, then the end or a space.
		wantProto, rest, found := strings.Cut(line, " ")
		digits, _, _ := strings.Cut(rest, " ")
		wantOK := found && strings.HasPrefix(wantProto, "HTTP/1.") && len(digits) == 3 &&
			'1' <= digits[0] && digits[0] <= '9' && isDigits(digits[1:])
		if ok != wantOK {
			t.Fatalf("parseStatusLine(%q) ok = %v, want %v", line, ok, wantOK)
		}
		if ok && (proto != wantProto || strconv.Itoa(status) != digits) {
			t.Errorf("parseStatusLine(%q) = %q, %d, want %q, %s", line, proto, status, wantProto, digits)
		}

		// A status line as a server writes it reads back as written.
		want := 100 + int(code)%900
		if strings.Contains(reason, "\n") {
			return
		}
		line = fmt.Sprintf("HTTP/1.1 %d %s", want, reason)
		if proto, status, ok := parseStatusLine(line); !ok || proto != "HTTP/1.1" || status != want {
			t.Errorf("parseStatusLine(%q) = %q, %d, %v, want HTTP/1.1, %d, true", line, proto, status, ok, want)
		}
	})
}

// swapASCIICase turns ASCII upper case letters to lower case and back.
func swapASCIICase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

func FuzzHasToken(f *testing.F) {
	f.Add("close", "", "close")
	f.Add("Keep-Alive, Upgrade", "x", "keep-alive")
	f.Add(" close ,", "", "close")
	f.Add("closed", "close", "close")
	f.Add("a", "b", "a,b")
	f.Add("", "", "")
	f.Add("\u212a", "", "k") // KELVIN SIGN folds to k
	f.Fuzz(func(t *testing.T, a, b, token string) {
		got := hasToken(a, token)
		// A list is its parts: listing a and b lists what either does.
		if joined := hasToken(a+","+b, token); joined != (got || hasToken(b, token)) {
			t.Errorf("hasToken(%q, %q) = %v, want hasToken of each part or'd", a+","+b, token, joined)
		}
		if swapped := hasToken(swapASCIICase(a), token); swapped != got {
			t.Errorf("hasToken(%q, %q) = %v, but %v for %q", swapASCIICase(a), token, swapped, got, a)
		}
		// No list item holds a comma, so no token with one is ever listed.
		if strings.Contains(token, ",") && got {
			t.Errorf("hasToken(%q, %q) = true for a token with a comma", a, token)
		}
		// A token without commas or surrounding spaces is found where listed.
		if !strings.Contains(token, ",") && strings.TrimSpace(token) == token {
			if list := a + ",\t" + token + " ," + b; !hasToken(list, token) {
				t.Errorf("hasToken(%q, %q) = false, want true", list, token)
			}
		}
	})
}
