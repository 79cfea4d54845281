package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func frame(kind byte, payload string) string {
	var head [5]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	return string(head[:]) + payload
}

// readFrames reads a stream of frames as the post does; cutBy records the
// source failure the reader reported.
func readFrames(src io.Reader) (data string, r *frameReader, cutBy error) {
	st := newStreamed("", src, noDeadline, "req-1", func(err error) (*functionError, bool) {
		cutBy = err
		return newInitError("Runtime.ExitError", "cut: "+err.Error()), true
	})
	b, err := io.ReadAll(st.body)
	if err != nil {
		panic("a frame reader never fails: " + err.Error())
	}
	return string(b), st.body, cutBy
}

// noDeadline stands for the deadline of a source no deadline bounds.
func noDeadline(time.Time) error { return nil }

func TestFrameReader(t *testing.T) {
	for _, tc := range []struct {
		name, in, data, failType string
		cut, broken              bool
	}{
		{name: "data and end", in: frame('d', "hello ") + frame('d', "world") + frame('f', ""), data: "hello world"},
		{name: "an error after data", in: frame('d', "partial") + frame('e', `{"errorType":"LateError","errorMessage":"m","trace":["a"]}`),
			data: "partial", failType: "LateError"},
		{name: "an escaped error", in: frame('d', "p") + frame('E', `{"errorType":"Escaped","errorMessage":"m"}`),
			data: "p", failType: "Escaped", broken: true},
		{name: "an error body that is not runtime.js's", in: frame('e', "not json"), failType: "Error"},
		{name: "the source ends before the end frame", in: frame('d', "abc"), data: "abc", failType: "Runtime.ExitError", cut: true, broken: true},
		{name: "the source ends mid-frame", in: frame('d', "abcdef")[:7], data: "ab", failType: "Runtime.ExitError", cut: true, broken: true},
		{name: "the source ends mid-head", in: "d\x00", failType: "Runtime.ExitError", cut: true, broken: true},
		{name: "an empty data frame", in: frame('d', "") + frame('f', ""), failType: "Runtime.BridgeError"},
		{name: "an unknown kind", in: frame('x', "abc"), failType: "Runtime.BridgeError"},
		{name: "an end frame with bytes", in: frame('f', "abc"), failType: "Runtime.BridgeError"},
		{name: "a data frame over 1 MiB", in: "d\x00\x10\x00\x01", failType: "Runtime.BridgeError"},
		{name: "an error frame over 256 KiB", in: "e\x00\x04\x00\x01", failType: "Runtime.BridgeError"},
		{name: "nothing after the end frame is read", in: frame('f', "") + frame('d', "more"), data: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, r, cutBy := readFrames(iotest.HalfReader(strings.NewReader(tc.in)))
			if data != tc.data {
				t.Errorf("passed on %q, want %q", data, tc.data)
			}
			failType := ""
			if r.fail != nil {
				failType = r.fail.Type
			}
			if failType != tc.failType || r.broken != tc.broken || (cutBy != nil) != tc.cut {
				t.Errorf("ended in %q (broken %v, cut %v), want %q (broken %v, cut %v)",
					failType, r.broken, cutBy, tc.failType, tc.broken, tc.cut)
			}
			if cutBy != nil && !errors.Is(cutBy, io.ErrUnexpectedEOF) {
				t.Errorf("a source that ended early was cut by %v, want io.ErrUnexpectedEOF", cutBy)
			}
			if len(r.trailer()) == 0 && tc.failType != "" {
				t.Error("an error without trailers")
			}
		})
	}
}

func TestFrameReaderStopsAtTheLimit(t *testing.T) {
	// Frames of 1 MiB, one past the limit; a source that never ends.
	piece := frame('d', strings.Repeat("a", maxDataFrame))
	src := io.MultiReader(strings.NewReader(strings.Repeat(piece, 200)), strings.NewReader(piece), endless{})
	data, r, _ := readFrames(src)
	if len(data) != 200<<20 || r.fail == nil || r.fail.Type != "Function.ResponseSizeTooLarge" || r.broken {
		t.Fatalf("passed on %d bytes and ended in %+v, want %d and Function.ResponseSizeTooLarge", len(data), r.fail, 200<<20)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) { return copy(p, bytes.Repeat([]byte("d"), len(p))), nil }

func TestStreamContentType(t *testing.T) {
	for in, want := range map[string]string{
		"":                          defaultStreamType,
		"text/event-stream":         "text/event-stream",
		"text/plain\r\nX-Evil: yes": defaultStreamType,
		strings.Repeat("a", 2000):   defaultStreamType,
	} {
		if got := newStreamed(in, nil, nil, "", nil).contentType; got != want {
			t.Errorf("content type %q became %q, want %q", in, got, want)
		}
	}
}

func FuzzFrameReader(f *testing.F) {
	f.Add([]byte(frame('d', "abc") + frame('f', "")))
	f.Add([]byte(frame('d', "abc") + frame('e', `{"errorType":"E"}`)))
	f.Add([]byte("d\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Any bytes: what is passed on is data from the input, and the stream
		// ends well only on an end frame.
		data, r, _ := readFrames(bytes.NewReader(in))
		if len(data) > len(in) {
			t.Fatalf("passed on %d bytes from %d", len(data), len(in))
		}
		if !r.ended {
			t.Fatal("the reader returned EOF without an end")
		}
		if r.fail == nil && !r.framed {
			t.Fatal("a stream ended well without an end frame")
		}
	})
}

func TestReadStreamHead(t *testing.T) {
	nonce := strings.Repeat("5e", tokenBytes)
	other := strings.Repeat("e5", tokenBytes)
	for _, tc := range []struct {
		name, in, want string
		eof, bad       bool
	}{
		{name: "a content type", in: frame('h', nonce+"text/plain") + frame('d', "x"), want: "text/plain"},
		{name: "none", in: frame('h', nonce), want: ""},
		{name: "the largest", in: frame('h', nonce+strings.Repeat("t", maxContentTypeBytes)), want: strings.Repeat("t", maxContentTypeBytes)},
		{name: "nothing before the end", in: "", eof: true},
		{name: "too large", in: frame('h', nonce+strings.Repeat("t", maxContentTypeBytes+1)), bad: true},
		{name: "another invocation's", in: frame('h', other+"text/plain"), bad: true},
		{name: "no nonce", in: frame('h', "text/plain"), bad: true},
		{name: "nothing", in: frame('h', ""), bad: true},
		{name: "data first", in: frame('d', "x"), bad: true},
		{name: "a cut head", in: "h\x00", bad: true},
		{name: "a cut content type", in: frame('h', nonce+"text/plain")[:8], bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := strings.NewReader(tc.in)
			got, err := readStreamHead(r, nonce)
			switch {
			case tc.eof && !errors.Is(err, io.EOF):
				t.Fatalf("got %q, %v; want io.EOF", got, err)
			case tc.bad && (err == nil || errors.Is(err, io.EOF)):
				t.Fatalf("got %q, %v; want an error", got, err)
			case !tc.eof && !tc.bad && (err != nil || got != tc.want):
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			case tc.name == "a content type" && r.Len() != len(frame('d', "x")):
				t.Fatalf("read %d bytes past the head", len(frame('d', "x"))-r.Len())
			}
		})
	}
}

func FuzzReadStreamHead(f *testing.F) {
	const nonce = "0123456789abcdef"
	f.Add([]byte(frame('h', nonce+"text/plain")))
	f.Add([]byte("h\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Any bytes: a head is read whole, within its bound, only with the
		// nonce, and nothing past it.
		r := bytes.NewReader(in)
		got, err := readStreamHead(r, nonce)
		if err != nil {
			return
		}
		if len(got) > maxContentTypeBytes || in[0] != frameHead || string(in[5:5+len(nonce)]) != nonce ||
			r.Len() != len(in)-5-len(nonce)-len(got) {
			t.Fatalf("read %q from %q, leaving %d bytes", got, in, r.Len())
		}
	})
}

func TestFrameReaderSettles(t *testing.T) {
	for _, tc := range []struct {
		name, after  string
		settled, bad bool
		broken       bool
	}{
		{name: "settled", after: frame('s', ""), settled: true},
		{name: "an error escaped after the end", after: frame('S', ""), broken: true},
		{name: "the source ends before settling", after: "", bad: true, broken: true},
		{name: "a malformed frame", after: frame('d', "x"), bad: true, broken: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, r, _ := readFrames(strings.NewReader(frame('d', "ok") + frame('f', "") + tc.after))
			fe, broken := r.settle()
			if data != "ok" || r.settled != tc.settled || (fe != nil) != tc.bad || broken != tc.broken {
				t.Errorf("data %q, settled %v, error %v, broken %v", data, r.settled, fe, broken)
			}
		})
	}
}

// At shutdown a stream whose handler still works on ends at once, instead of
// at the deadline: mid-stream its read fails, so that the post is abandoned,
// and a wait for the handler to settle ends. Neither counts as a cut, which
// would kill the process outright instead of giving it its grace.
func TestFrameReaderShutdown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sent     string
		settling bool
	}{
		{"mid-stream", frame('d', "ok"), false},
		{"settling", frame('d', "ok") + frame('f', ""), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deno, src := net.Pipe()
			defer deno.Close()
			defer src.Close()
			go deno.Write([]byte(tc.sent)) // and then nothing: the handler works on
			st := newStreamed("", src, src.SetReadDeadline, "req-1", func(err error) (*functionError, bool) {
				t.Errorf("cut by %v at shutdown", err)
				return nil, true
			})
			ctx, shutdown := context.WithCancel(context.Background())
			defer st.body.abandonOnShutdown(ctx)()
			data, err := io.ReadAll(io.LimitReader(st.body, 2))
			if string(data) != "ok" || err != nil {
				t.Fatalf("read %q, %v before the shutdown, want \"ok\"", data, err)
			}
			if tc.settling {
				if n, err := st.body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Fatalf("read %d bytes, %v after the end frame, want io.EOF", n, err)
				}
			}
			shutdown()
			if tc.settling {
				if fe, broken := st.body.settle(); fe != nil || broken {
					t.Errorf("settled in %v (broken %v), want nothing to log", fe, broken)
				}
				return
			}
			if n, err := st.body.Read(make([]byte, 1)); n != 0 || !errors.Is(err, errShutdown) {
				t.Errorf("read %d bytes, %v after the shutdown, want errShutdown", n, err)
			}
			if st.body.trailer() != nil {
				t.Errorf("trailers %v on an abandoned stream", st.body.trailer())
			}
		})
	}
}
