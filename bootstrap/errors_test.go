package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// A function shapes the error it throws: one plain throw must not make the
// bootstrap hold, post or log many times the error body runtime.js sent.
func TestDecodeFunctionErrorBoundsWhatAFunctionShaped(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"millions of empty stack lines", `{"errorType":"Error","errorMessage":"boom","stackTrace":[""` +
			strings.Repeat(`,""`, 2_700_000) + `]}`},
		{"a message of characters JSON may escape", `{"errorType":"Error","errorMessage":"` +
			strings.Repeat("<>&", 2_000_000) + `","stackTrace":[]}`},
		{"a stack of long lines", `{"errorType":"Error","errorMessage":"m","stackTrace":["` +
			strings.Repeat(strings.Repeat("s", 100_000)+`","`, 80) + `end"]}`},
		{"a body that is not runtime.js's", strings.Repeat("x", 8<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := decodeFunctionError("Error", []byte(tc.body))
			checkPostable(t, fe)
			if n := len(fe.StackTrace); n > runtimeapi.MaxStackLines {
				t.Errorf("kept %d stack lines, want at most %d", n, runtimeapi.MaxStackLines)
			}
			body := fe.Body()
			// The message and the stack, each at its bound, the stack perhaps
			// twice, and JSON's quotes and commas around the lines.
			limit := runtimeapi.MaxErrorMessageBytes + 2*(runtimeapi.MaxStackBytes+3*runtimeapi.MaxStackLines) + 1024
			if len(body) > limit {
				t.Errorf("the body to post is %d bytes, want at most %d", len(body), limit)
			}
			var logs strings.Builder
			newLogger(&logs, true).failure("req-1", "Invoke Error", fe)
			newLogger(&logs, false).failure("req-1", "Invoke Error", fe)
			if logs.Len() > 2*limit {
				t.Errorf("the log records are %d bytes, want at most %d", logs.Len(), 2*limit)
			}
		})
	}
}

// What a function writes is posted as written: <, > and & stay themselves.
func TestErrorBodyKeepsHTMLCharacters(t *testing.T) {
	body := string((&functionError{Type: "E", Message: "a < b && c > d", StackTrace: []string{"<anonymous>"}}).Body())
	if !strings.Contains(body, `"a < b && c > d"`) || !strings.Contains(body, `"<anonymous>"`) {
		t.Errorf("body %s, want <, > and & as they are", body)
	}
	var back functionError
	if err := json.Unmarshal([]byte(body), &back); err != nil || back.Message != "a < b && c > d" {
		t.Errorf("body %s reads back as %#v (%v)", body, back, err)
	}
}

// A stack cut short says so on its last line.
func TestCutStackSaysSo(t *testing.T) {
	lines := make([]string, runtimeapi.MaxStackLines+10)
	for i := range lines {
		lines[i] = fmt.Sprintf("    at f%d", i)
	}
	raw, _ := json.Marshal(map[string]any{"errorType": "E", "errorMessage": "m", "stackTrace": lines})
	fe := decodeFunctionError("Error", raw)
	if len(fe.StackTrace) != runtimeapi.MaxStackLines || fe.StackTrace[0] != "    at f0" ||
		!strings.Contains(fe.StackTrace[len(fe.StackTrace)-1], "cut short") {
		t.Errorf("got %d lines, first %q, last %q; want %d, the first kept, the last saying it was cut",
			len(fe.StackTrace), fe.StackTrace[0], fe.StackTrace[len(fe.StackTrace)-1], runtimeapi.MaxStackLines)
	}
}
