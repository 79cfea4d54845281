package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"math"
	"strings"
	"testing"
)

// validUTF8 is s as encoding/json writes it: each invalid byte becomes U+FFFD.
func validUTF8(s string) string {
	return strings.Map(func(r rune) rune { return r }, s)
}

func FuzzParseResultFrame(f *testing.F) {
	for _, line := range []string{`{"length":7}`, `{"length":0,"errorType":"Error"}`, `{"length":8388608}`,
		`{"length":8388609}`, `{"length":-1}`, `{"length":1.5}`, `{"length":1e3}`, `{"length":"7"}`,
		`{"length":null}`, `{}`, `null`, `[]`, `{"length":9223372036854775808}`, `{"LENGTH":7}`,
		`{"length":1,"length":-1}`, `{"length":7,"errorType":5}`, `{"length":7}garbage`, ``, "\xff"} {
		f.Add([]byte(line), int64(7), "")
	}
	f.Add([]byte(nil), int64(httpc.MaxBodyBytes), "Runtime.UserCodeSyntaxError")
	f.Add([]byte(nil), int64(httpc.MaxBodyBytes+1), "")
	f.Add([]byte(nil), int64(math.MinInt64), "x\ny")
	f.Add([]byte(nil), int64(math.MaxInt64), "\xff")
	f.Fuzz(func(t *testing.T, line []byte, n int64, errorType string) {
		// Any line: a frame within bounds, or one of the two errors that say
		// why not.
		rf, err := parseResultFrame(line)
		var be *bridgeError
		var tl *httpc.TooLargeError
		switch {
		case err == nil:
			if rf.Length < 0 || rf.Length > httpc.MaxBodyBytes {
				t.Errorf("parseResultFrame(%q) = length %d, want 0 to %d", line, rf.Length, httpc.MaxBodyBytes)
			}
			if !json.Valid(line) {
				t.Errorf("parseResultFrame(%q) accepted a line that is not JSON", line)
			}
		case errors.As(err, &tl):
			if tl.Size <= httpc.MaxBodyBytes {
				t.Errorf("parseResultFrame(%q) = %v, for a length within the limit", line, err)
			}
		case errors.As(err, &be):
			if len(be.what) > 300 || strings.Contains(be.what, "\n") {
				t.Errorf("parseResultFrame(%q) = %q, want a one-line excerpt", line, be.what)
			}
		default:
			t.Errorf("parseResultFrame(%q) = %v, want a *bridgeError or a *tooLargeError", line, err)
		}

		// A frame as runtime.js writes it reads back as written.
		line, _ = json.Marshal(map[string]any{"length": n, "errorType": errorType})
		rf, err = parseResultFrame(line)
		switch {
		case n < 0:
			if !errors.As(err, &be) {
				t.Errorf("parseResultFrame(%s) = %+v, %v, want a *bridgeError", line, rf, err)
			}
		case n > httpc.MaxBodyBytes:
			if !errors.As(err, &tl) || tl.Size != n {
				t.Errorf("parseResultFrame(%s) = %+v, %v, want a *tooLargeError of size %d", line, rf, err, n)
			}
		case err != nil || rf.Length != n || !rf.Failed || rf.ErrorType != cmp.Or(validUTF8(errorType), "Error"):
			// A frame naming an error type, even an empty one, is a failure.
			t.Errorf("parseResultFrame(%s) = %+v, %v, want length %d, failed, type %q", line, rf, err, n,
				cmp.Or(validUTF8(errorType), "Error"))
		}
		// A frame without one is a result.
		line, _ = json.Marshal(map[string]any{"length": max(n, 0) % (httpc.MaxBodyBytes + 1)})
		if rf, err = parseResultFrame(line); err != nil || rf.Failed || rf.ErrorType != "" {
			t.Errorf("parseResultFrame(%s) = %+v, %v, want a result", line, rf, err)
		}
	})
}
