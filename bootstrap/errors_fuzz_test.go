package main

import (
	"cmp"
	"encoding/json"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"slices"
	"testing"
)

// checkPostable fails t unless fe is fit to post to /error or /init/error: it
// has a type (the error type header is never empty) and a stack trace (never
// null), and its body is JSON that reads back as fe, strings made valid UTF-8.
func checkPostable(t *testing.T, fe *functionError) {
	t.Helper()
	if fe.Type == "" || fe.StackTrace == nil {
		t.Errorf("got %#v, want a type and a non-nil stack trace", fe)
	}
	body := fe.Body()
	var back functionError
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	want := functionError{Type: validUTF8(fe.Type), Message: validUTF8(fe.Message), StackTrace: []string{}}
	for _, frame := range fe.StackTrace {
		want.StackTrace = append(want.StackTrace, validUTF8(frame))
	}
	if back.Type != want.Type || back.Message != want.Message || !slices.Equal(back.StackTrace, want.StackTrace) ||
		back.StackTrace == nil {
		t.Errorf("body %q reads back as %#v, want %#v", body, back, want)
	}
}

func FuzzDecodeFunctionError(f *testing.F) {
	for _, body := range []string{
		`{"errorType":"TypeError","errorMessage":"x is not a function","stackTrace":["TypeError: x","    at f (file:///var/task/mod.js:1:1)"]}`,
		`{"errorType":"Error","errorMessage":"no stack"}`,
		`{"errorType":"Error","errorMessage":"null stack","stackTrace":null}`,
		`{"errorType":"Error","stackTrace":["a",null,"b"]}`,
		`{"errorType":"","errorMessage":"empty type"}`,
		`{"errorType":5}`,
		`{"errorType":"E","stackTrace":"not a list"}`,
		`{"errorType":"E\n\r\u0000x","errorMessage":"\ud800"}`,
		`{"ERRORTYPE":"E"}`,
		`null`, `[]`, `"string"`, ``, "\xff\xfe", "plain text\n",
	} {
		f.Add("Error", []byte(body))
	}
	f.Add("Runtime.UserCodeSyntaxError", []byte(`{"errorMessage":"x"}`))
	f.Add("Bad\r\nInjected: yes", []byte("not JSON"))
	f.Fuzz(func(t *testing.T, headerType string, body []byte) {
		if headerType == "" {
			t.Skip("callers pass the error type header only when it is set")
		}
		fe := decodeFunctionError(headerType, body)
		checkPostable(t, fe)
		// runtime.js's own body is kept as it is (the header's type standing in
		// for an empty one, both cut to a header's length); any other is the
		// message.
		var sent functionError
		if json.Unmarshal(body, &sent) == nil && (sent.Type != "" || sent.Message != "" || sent.StackTrace != nil) {
			want := (&runtimeapi.Error{Type: cmp.Or(sent.Type, headerType), Message: sent.Message, StackTrace: sent.StackTrace}).Sanitized()
			if fe.Type != want.Type || fe.Message != want.Message || !slices.Equal(fe.StackTrace, want.StackTrace) {
				t.Errorf("decodeFunctionError(%q, %q) = %#v, want %#v", headerType, body, fe, want)
			}
		} else if want := (&runtimeapi.Error{Type: headerType, Message: string(body)}).Sanitized(); fe.Type != want.Type ||
			fe.Message != want.Message || len(fe.StackTrace) != 0 {
			t.Errorf("decodeFunctionError(%q, %q) = %#v, want the header's type and the body as the message",
				headerType, body, fe)
		}
	})
}

// The ready line is the first thing runtime.js says, after the function's
// code has been imported and may have reshaped anything, JSON.stringify
// included.
func FuzzReadyMessage(f *testing.F) {
	for _, line := range []string{
		`{"port":4000}`,
		`{"error":{"errorType":"Runtime.ImportModuleError","errorMessage":"Cannot find module","stackTrace":["at x"]}}`,
		`{"error":{"errorMessage":"no type"}}`,
		`{"error":{}}`,
		`{"error":null}`,
		`{"error":{"errorType":null,"stackTrace":null}}`,
		`{"error":{"errorType":"E","stackTrace":[1,2]}}`,
		`{"error":"a string"}`,
		`{"port":"4000"}`,
		`{"port":-1,"error":{"errorType":"E"}}`,
		`{"error":{"errorType":"E"},"error":{"errorMessage":"twice"}}`,
		`null`, ``, `{`,
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var ready readyMessage
		if json.Unmarshal(line, &ready) != nil || ready.Error == nil {
			return
		}
		sent := *ready.Error
		fe := ready.Error.Sanitized()
		checkPostable(t, fe)
		if ready.Error.Type != sent.Type || (ready.Error.StackTrace == nil) != (sent.StackTrace == nil) {
			t.Errorf("sanitized changed the error it was called on: %#v, was %#v", ready.Error, sent)
		}
		wantType := sent.Type
		if wantType == "" {
			wantType = "Runtime.Unknown"
		}
		if fe.Type != wantType || fe.Message != sent.Message || !slices.Equal(fe.StackTrace, sent.StackTrace) {
			t.Errorf("sanitized %#v = %#v, want type %q and the rest as sent", sent, fe, wantType)
		}
	})
}
