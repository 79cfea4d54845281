package httpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Bodies, lengths, chunks and header values, as the response reader takes
// them (http_client_fuzz_test.go has the reader as a whole).

// bodyPattern is what large bodies are made of: maxBodyBytes of i % 251, a
// period prime to every buffer size, so a byte out of place shows.
var bodyPattern = sync.OnceValue(func() []byte {
	b := make([]byte, MaxBodyBytes)
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
	for _, n := range []uint64{0, 1, streamMin - 1, streamMin, MaxBodyBytes - 1, MaxBodyBytes, MaxBodyBytes + 1,
		1 << 40, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		for framing := range uint8(3) {
			f.Add(n, framing, uint8(0), false)
		}
	}
	f.Add(uint64(MaxBodyBytes+1), uint8(1), uint8(3), false) // four chunks, the last one over
	f.Add(uint64(MaxBodyBytes), uint8(0), uint8(0), true)    // left on the connection
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
		resp, err := pc.readResponse(context.Background(), &Request{Method: "GET", Path: "/"}, stream)
		if length > MaxBodyBytes {
			var tl *TooLargeError
			switch {
			case err == nil:
				t.Fatalf("got a %d-byte body for one of %d, want an error", len(resp.Body), length)
			case !bad && !errors.As(err, &tl):
				t.Fatalf("got %v, want a *tooLargeError", err)
			case tl != nil && framing == byLength && tl.Size != int64(length):
				t.Errorf("got size %d in %v, want %d", tl.Size, err, length)
			}
			// Past the head, at most the limit and one buffer's worth are read.
			if limit := int64(MaxBodyBytes + 2*readBufferSize); source.n > limit {
				t.Errorf("read %d bytes of a body refused as too large, want at most %d", source.n, limit)
			}
			return
		}
		if err != nil {
			t.Fatalf("got %v, want a %d-byte body", err, length)
		}
		body := resp.Body
		if framing == byLength && stream && length >= streamMin {
			if resp.Stream == nil || resp.Stream.size != int64(length) || body != nil {
				t.Fatalf("got stream %+v and a %d-byte body, want a stream of %d bytes", resp.Stream, len(body), length)
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
		resp := &Response{Header: []Field{{"X-Content-Length", second}, {"Content-Length-X", first}}}
		want, wantOK := int64(-1), true
		for i, v := range []string{first, second}[:count] {
			name := "Content-Length"
			if i == 1 {
				name = "content-LENGTH"
			}
			resp.Header = append(resp.Header, Field{name, v})
			n, ok := plainLength(v)
			wantOK = wantOK && ok && (want < 0 || n == want)
			want = n
		}
		n, err := contentLength(resp)
		switch {
		case wantOK && (err != nil || n != want):
			t.Errorf("contentLength(%q) = %d, %v, want %d", resp.Header, n, err, want)
		case !wantOK && err == nil:
			t.Errorf("contentLength(%q) = %d, want an error", resp.Header, n)
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
		if err == nil && (len(got) > len(raw) || len(got) > MaxBodyBytes) {
			t.Errorf("got a %d-byte body from %d bytes, want at most %d", len(got), len(raw), min(len(raw), MaxBodyBytes))
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
