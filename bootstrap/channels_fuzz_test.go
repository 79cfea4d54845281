package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzReadBoundedLine(f *testing.F) {
	f.Add([]byte(`{"port":4000}`+"\n"), uint16(64), uint8(0), false)
	f.Add([]byte(strings.Repeat("a", 64)+"\n"+strings.Repeat("b", 65)+"\n"), uint16(64), uint8(0), false)
	f.Add([]byte(strings.Repeat("a", 65)), uint16(64), uint8(0), true)
	f.Add([]byte(strings.Repeat("x", 100)+"\nrest"), uint16(40), uint8(16), false)
	f.Add([]byte("\n\n\r\n"), uint16(0), uint8(0), false)
	f.Add([]byte("no newline"), uint16(1000), uint8(0), true)
	f.Add([]byte{}, uint16(1), uint8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, max uint16, size uint8, oneByte bool) {
		// The whole line, or each read, may span the reader's buffer: bufio
		// allows 16 bytes at least.
		var src io.Reader = bytes.NewReader(data)
		if oneByte {
			src = iotest.OneByteReader(src)
		}
		r := bufio.NewReaderSize(src, 16+int(size))
		limit := int(max)
		for rest := data; ; {
			line, err := readBoundedLine(r, limit)
			end := bytes.IndexByte(rest, '\n')
			switch {
			case end >= 0 && end <= limit:
				if err != nil || !bytes.Equal(line, rest[:end]) {
					t.Fatalf("got %q, %v; want %q", line, err, rest[:end])
				}
				rest = rest[end+1:]
				continue
			case end >= 0 || len(rest) > limit+1:
				if !errors.Is(err, errLineTooLong) {
					t.Fatalf("got %q, %v for a line over %d bytes, want errLineTooLong", truncateBytes(line, 80), err, limit)
				}
			case len(rest) == 0:
				if err != io.EOF {
					t.Fatalf("got %q, %v at the end, want io.EOF", line, err)
				}
			default:
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("got %q, %v for a line without its newline, want io.ErrUnexpectedEOF", line, err)
				}
			}
			if line != nil {
				t.Errorf("got line %q with error %v", line, err)
			}
			return
		}
	})
}

// A channel goes to the process whose token a connection sends first, on a
// line of its own, and to no other; any other bytes get the connection closed.
func FuzzChannelHandshake(f *testing.F) {
	l, err := listenChannels(0)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(l.close)
	const (
		noToken = iota
		tokenA
		tokenB
	)
	f.Add([]byte{}, uint8(tokenA), uint8(64), false, []byte("\n"))
	f.Add([]byte{}, uint8(tokenB), uint8(64), false, []byte("\n{\"port\":1}\n"))
	f.Add([]byte{}, uint8(tokenA), uint8(64), false, []byte("\r\n"))
	f.Add([]byte{}, uint8(tokenA), uint8(64), false, []byte{})
	f.Add([]byte{}, uint8(tokenA), uint8(64), true, []byte("\n"))
	f.Add([]byte{}, uint8(tokenA), uint8(63), false, []byte("\n"))
	f.Add([]byte{}, uint8(tokenA), uint8(64), false, []byte("0\n"))
	f.Add([]byte(" "), uint8(tokenA), uint8(64), false, []byte("\n"))
	f.Add([]byte("\n"), uint8(tokenA), uint8(64), false, []byte("\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), uint8(noToken), uint8(0), false, []byte{})
	f.Add([]byte("\n"), uint8(noToken), uint8(0), false, []byte{})
	f.Add([]byte(strings.Repeat("0", 1000)), uint8(noToken), uint8(0), false, []byte("\n"))
	f.Fuzz(func(t *testing.T, before []byte, which, keep uint8, upper bool, after []byte) {
		a, arrivedA, forgetA, err := l.expect()
		if err != nil {
			t.Fatal(err)
		}
		defer forgetA()
		b, arrivedB, forgetB, err := l.expect()
		if err != nil {
			t.Fatal(err)
		}
		defer forgetB()
		var sent []byte
		sent = append(sent, before...)
		if token := [...]string{"", a, b}[which%3]; token != "" {
			token = token[:min(int(keep), len(token))]
			if upper {
				token = strings.ToUpper(token)
			}
			sent = append(sent, token...)
		}
		sent = append(sent, after...)

		conn, err := net.Dial("tcp", l.address())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The listener may hang up before it has read everything: errors
		// writing are part of what is tested. Closing the write side ends the
		// handshake at once instead of at its timeout.
		conn.Write(sent)
		conn.(*net.TCPConn).CloseWrite()
		hungUp := make(chan struct{})
		go func() {
			io.Copy(io.Discard, conn)
			close(hungUp)
		}()
		defer func() { conn.Close(); <-hungUp }()

		var got *channel
		var gotToken string
		select {
		case got = <-arrivedA:
			gotToken = a
		case got = <-arrivedB:
			gotToken = b
		case <-hungUp:
		}
		var want string
		for _, token := range []string{a, b} {
			if bytes.HasPrefix(sent, []byte(token+"\n")) {
				want = token
			}
		}
		if got == nil {
			// The handshake hangs up under the lock it would send under, and
			// sends nothing once it has.
			select {
			case got = <-arrivedA:
			case got = <-arrivedB:
			default:
			}
			if got != nil {
				got.close()
				t.Fatalf("got a channel for a connection the listener closed, sending %q", sent)
			}
			if want != "" {
				t.Fatalf("sending %q, the listener hung up, want the channel for %s", sent, want)
			}
			return
		}
		defer got.close()
		if gotToken != want {
			t.Fatalf("sending %q, got the channel for %q, want it for %q", sent, gotToken, want)
		}
		// What follows the token's line is the channel's, byte for byte.
		rest, err := io.ReadAll(got.r)
		if err != nil || !bytes.Equal(rest, sent[len(want)+1:]) {
			t.Errorf("got %q, %v on the channel, want %q", rest, err, sent[len(want)+1:])
		}
	})
}
