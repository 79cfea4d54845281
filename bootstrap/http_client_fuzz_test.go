package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
		resp, err := connOver(bytes.NewReader(answer)).readResponse(&httpRequest{method: method, path: "/"}, stream)
		// Allocations follow what arrived, except one body buffer of a
		// declared length, which maxBodyBytes bounds; 64 bytes for each byte
		// that arrived covers the header slice of many three-byte header lines.
		if grown, limit := totalAlloc()-before, uint64(maxBodyBytes+64*len(answer)+1<<20); grown > limit {
			t.Errorf("allocated %d bytes reading a %d-byte answer, want at most %d", grown, len(answer), limit)
		}
		if err != nil { // the caller drops resp, which may hold the head
			var tl *tooLargeError
			if errors.As(err, &tl) && tl.size >= 0 && tl.size <= maxBodyBytes {
				t.Errorf("got %v for a size within the limit", err)
			}
			return
		}
		if resp.status < 200 || resp.status > 999 {
			t.Errorf("got status %d, want a final one from 200 to 999", resp.status)
		}
		for _, h := range resp.header {
			if h.name == "" || strings.ContainsAny(h.name, " \t:\n") {
				t.Errorf("got header name %q", h.name)
			}
			if strings.ContainsAny(h.value, "\r\n\x00") || !validHeaderValue(h.value) {
				t.Errorf("got header %s with value %q, want no control characters", h.name, h.value)
			}
		}
		if len(resp.body) > maxBodyBytes || len(resp.body) > len(answer) {
			t.Errorf("got a %d-byte body from a %d-byte answer, want at most both it and %d",
				len(resp.body), len(answer), maxBodyBytes)
		}
		if (head || resp.status == 204 || resp.status == 304) && (resp.body != nil || resp.stream != nil) {
			t.Errorf("got a body for %s with status %d, want none", method, resp.status)
		}
		if s := resp.stream; s != nil {
			if !stream || resp.body != nil || s.size < streamMin || s.size > maxBodyBytes || s.left != s.size {
				t.Errorf("got a stream of %d bytes (%d left, body %d bytes, stream %v), want one from %d to %d and no body",
					s.size, s.left, len(resp.body), stream, streamMin, maxBodyBytes)
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
		if strings.Contains(reason, "\n") || !validTokenName(name) || framing || !validHeaderValue(value) {
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
		resp, err := pc.readResponse(&httpRequest{method: "POST", path: "/"}, false)
		if err != nil {
			t.Fatalf("got %v, want the response", err)
		}
		wantBody := body
		if noBody {
			wantBody = nil
		}
		if resp.status != status || resp.get(name) != strings.Trim(value, " \t") || !bytes.Equal(resp.body, wantBody) {
			t.Errorf("got %d %s: %q, body %q; want %d %s: %q, body %q", resp.status, name, resp.get(name), resp.body,
				status, name, strings.Trim(value, " \t"), wantBody)
		}
		if pc.mustClose {
			t.Errorf("got a connection to close after a kept-alive %s answer", proto)
		}
		next, err := pc.readResponse(&httpRequest{method: "POST", path: "/"}, false)
		if err != nil || next.status != 202 || string(next.body) != "ok" {
			t.Errorf("got the next answer %v, %v; want 202 \"ok\"", next, err)
		}
	})
}

// bodyPattern is what large bodies are made of: maxBodyBytes of i % 251, a
// period prime to every buffer size, so a byte out of place shows.
var bodyPattern = sync.OnceValue(func() []byte {
	b := make([]byte, maxBodyBytes)
	for i := range 251 {
		b[i] = byte(i)
	}
	for n := 251; n < len(b); n *= 2 { // whole periods: b[i] stays i % 251
		copy(b[n:], b[:n])
	}
	return b
})

// patternReader yields n bytes of the body pattern from offset off on, made
// as they are read, so a body of any declared length costs nothing to offer.
type patternReader struct{ off, left uint64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	pattern := bodyPattern()
	at := p.off % uint64(len(pattern))
	n := copy(b[:min(uint64(len(b)), p.left)], pattern[at:])
	p.off += uint64(n)
	p.left -= uint64(n)
	return n, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// Bodies of any declared length, framed each of the three ways: up to
// maxBodyBytes they arrive whole and exact; past it the reader refuses them
// with a *tooLargeError instead of reading (or allocating) them.
func FuzzReadResponseBodyLimit(f *testing.F) {
	for _, n := range []uint64{0, 1, streamMin - 1, streamMin, maxBodyBytes - 1, maxBodyBytes, maxBodyBytes + 1,
		1 << 40, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		for framing := range uint8(3) {
			f.Add(n, framing, uint8(0), false)
		}
	}
	f.Add(uint64(maxBodyBytes+1), uint8(1), uint8(3), false) // four chunks, the last one over
	f.Add(uint64(maxBodyBytes), uint8(0), uint8(0), true)    // left on the connection
	f.Fuzz(func(t *testing.T, length uint64, framing, chunks uint8, stream bool) {
		const (
			byLength = iota
			byChunks
			byClose
		)
		framing %= 3
		parts := []io.Reader{strings.NewReader("HTTP/1.1 200 OK\r\n")}
		bad := false // a length no uint63 holds, which is malformed rather than large
		switch framing {
		case byLength:
			parts = append(parts, strings.NewReader("Content-Length: "+strconv.FormatUint(length, 10)+"\r\n\r\n"),
				&patternReader{0, length})
			bad = length > math.MaxInt64
		case byChunks:
			parts = append(parts, strings.NewReader("Transfer-Encoding: chunked\r\n\r\n"))
			k := 1 + uint64(chunks%4)
			for i, off := uint64(0), uint64(0); i < k; i++ {
				size := length / k
				if i == k-1 {
					size = length - off
				}
				if size == 0 {
					continue // a chunk of size 0 would end the body
				}
				bad = bad || size > math.MaxInt64
				parts = append(parts, strings.NewReader(strconv.FormatUint(size, 16)+"\r\n"),
					&patternReader{off, size}, strings.NewReader("\r\n"))
				off += size
			}
			parts = append(parts, strings.NewReader("0\r\n\r\n"))
		case byClose:
			parts = append(parts, strings.NewReader("\r\n"), &patternReader{0, length})
		}
		source := &countingReader{r: io.MultiReader(parts...)}
		pc := connOver(source)
		resp, err := pc.readResponse(&httpRequest{method: "GET", path: "/"}, stream)
		if length > maxBodyBytes {
			var tl *tooLargeError
			switch {
			case err == nil:
				t.Fatalf("got a %d-byte body for one of %d, want an error", len(resp.body), length)
			case !bad && !errors.As(err, &tl):
				t.Fatalf("got %v, want a *tooLargeError", err)
			case tl != nil && framing == byLength && tl.size != int64(length):
				t.Errorf("got size %d in %v, want %d", tl.size, err, length)
			}
			// Past the head, at most the limit and one buffer's worth are read.
			if limit := int64(maxBodyBytes + 2*readBufferSize); source.n > limit {
				t.Errorf("read %d bytes of a body refused as too large, want at most %d", source.n, limit)
			}
			return
		}
		if err != nil {
			t.Fatalf("got %v, want a %d-byte body", err, length)
		}
		body := resp.body
		if framing == byLength && stream && length >= streamMin {
			if resp.stream == nil || resp.stream.size != int64(length) || body != nil {
				t.Fatalf("got stream %+v and a %d-byte body, want a stream of %d bytes", resp.stream, len(body), length)
			}
			body = make([]byte, length)
			if _, err := io.ReadFull(pc.r, body); err != nil {
				t.Fatalf("reading the stream's %d bytes: %v", length, err)
			}
		}
		if !bytes.Equal(body, bodyPattern()[:length]) {
			t.Errorf("got a %d-byte body that differs from the %d bytes sent", len(body), length)
		}
		if framing == byClose && !pc.mustClose {
			t.Errorf("got a connection kept after a body delimited by its end")
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

// isDigits tells whether s is made of ASCII digits only (true when empty).
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plainLength reads s as a Content-Length must be written: digits only, and
// a value an int64 holds.
func plainLength(s string) (int64, bool) {
	if s == "" || !isDigits(s) {
		return 0, false
	}
	n, _ := new(big.Int).SetString(s, 10)
	if !n.IsInt64() {
		return 0, false
	}
	return n.Int64(), true
}

func FuzzContentLength(f *testing.F) {
	for _, v := range []string{"0", "5", "007", "8388608", "9223372036854775807", "9223372036854775808",
		"99999999999999999999", "+5", "-1", " 5", "5 ", "0x10", "1_000", "5, 5", "", "٣"} {
		f.Add(v, v, uint8(1))
	}
	f.Add("5", "5", uint8(2))
	f.Add("5", "05", uint8(2))
	f.Add("5", "6", uint8(2))
	f.Add("", "", uint8(0))
	f.Fuzz(func(t *testing.T, first, second string, count uint8) {
		count %= 3
		// Headers that only look like Content-Length are ignored whatever they hold.
		resp := &httpResponse{header: []headerField{{"X-Content-Length", second}, {"Content-Length-X", first}}}
		want, wantOK := int64(-1), true
		for i, v := range []string{first, second}[:count] {
			name := "Content-Length"
			if i == 1 {
				name = "content-LENGTH"
			}
			resp.header = append(resp.header, headerField{name, v})
			n, ok := plainLength(v)
			wantOK = wantOK && ok && (want < 0 || n == want)
			want = n
		}
		n, err := contentLength(resp)
		switch {
		case wantOK && (err != nil || n != want):
			t.Errorf("contentLength(%q) = %d, %v, want %d", resp.header, n, err, want)
		case !wantOK && err == nil:
			t.Errorf("contentLength(%q) = %d, want an error", resp.header, n)
		}
	})
}

// chunk writes body as a chunked body, in chunks whose sizes cuts gives (in
// turn, as 1 to 256 bytes), with the hex case, extensions and trailers
// chosen, and returns it.
func chunk(body, cuts []byte, upper, ext, trailer bool) []byte {
	var w bytes.Buffer
	for i := 0; len(body) > 0; i++ {
		n := len(body)
		if len(cuts) > 0 {
			n = min(n, 1+int(cuts[i%len(cuts)]))
		}
		size := strconv.FormatInt(int64(n), 16)
		if upper {
			size = strings.ToUpper(size)
		}
		w.WriteString(size)
		if ext {
			w.WriteString(`;name="a;b" ; flag`)
		}
		w.WriteString("\r\n")
		w.Write(body[:n])
		w.WriteString("\r\n")
		body = body[n:]
	}
	w.WriteString("0\r\n")
	if trailer {
		w.WriteString("Server-Timing: total;dur=1\r\nX-Checksum: abc\r\n")
	}
	w.WriteString("\r\n")
	return w.Bytes()
}

func FuzzReadChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), []byte("hello"), []byte{1}, false, false, false)
	f.Add([]byte("2;x=y\r\nhe\r\n3\r\nllo\r\n0\r\nT: v\r\n\r\n"), []byte("hello, world"), []byte{0, 3}, true, true, true)
	f.Add([]byte("5\nhello\n0\n\n"), []byte{}, []byte{}, false, false, false)
	f.Add([]byte("5\r\nhello\r\n"), []byte("\r\n0\r\n\r\n"), []byte{255}, false, false, true)
	f.Add([]byte("5\r\nhelloXX0\r\n\r\n"), []byte("x"), []byte{}, false, true, false)
	f.Add([]byte("-1\r\n"), []byte(nil), []byte(nil), false, false, false)
	f.Add([]byte("+5\r\nhello\r\n0\r\n\r\n"), []byte(nil), []byte(nil), false, false, false)
	f.Add([]byte("800001\r\n"), []byte(nil), []byte(nil), false, false, false)
	f.Add([]byte("ffffffffffffffffff\r\n"), []byte(nil), []byte(nil), false, false, false)
	f.Add([]byte("0\r\n"+strings.Repeat("T: v\r\n", 100)), []byte(nil), []byte(nil), false, false, false)
	f.Fuzz(func(t *testing.T, raw, body, cuts []byte, upper, ext, trailer bool) {
		// Any bytes: a body comes only from what arrived, and within the limit.
		// The smallest buffer bufio allows makes long lines span reads.
		got, err := readChunked(bufio.NewReaderSize(bytes.NewReader(raw), 16))
		if err == nil && (len(got) > len(raw) || len(got) > maxBodyBytes) {
			t.Errorf("got a %d-byte body from %d bytes, want at most %d", len(got), len(raw), min(len(raw), maxBodyBytes))
		}

		// A chunked body reads back as the body, and reading stops right
		// after it.
		const next = "HTTP/1.1 200 OK\r\n"
		r := bufio.NewReaderSize(bytes.NewReader(append(chunk(body, cuts, upper, ext, trailer), next...)), 16)
		got, err = readChunked(r)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("got %q, %v; want %q", got, err, body)
		}
		if rest, _ := io.ReadAll(r); string(rest) != next {
			t.Errorf("got %q left after the body, want %q", rest, next)
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
