package runtimeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Error is the error body the Runtime API expects on /error and
// /init/error. Its Type also goes into Lambda-Runtime-Function-Error-Type.
type Error struct {
	Type       string   `json:"errorType"`
	Message    string   `json:"errorMessage"`
	StackTrace []string `json:"stackTrace"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Bounds on an error a function shaped (it may throw a message or a stack of
// megabytes): Sanitized keeps what fits, so that one throw costs the bootstrap,
// the Runtime API and the log a bounded amount however it was made.
const (
	MaxErrorMessageBytes = 256 << 10
	MaxStackLines        = 1024
	MaxStackBytes        = 256 << 10
)

// maxTwiceStackBytes bounds a stack trace sent under both its names: a
// function may shape a stack of megabytes, which twice over would reach the
// Runtime API's limit on an error sooner, and lose the stack altogether.
const maxTwiceStackBytes = 64 << 10

// Body is the error as JSON, as the Runtime API takes it: the stack trace
// under both names, stackTrace (Lambda's documentation) and trace (AWS's
// Node.js runtime), for whoever reads the error the caller gets; a stack over
// maxTwiceStackBytes goes as stackTrace alone. Strings go as written: <, > and
// & are not escaped, which would make each six bytes.
func (e *Error) Body() []byte {
	var trace *[]string
	size := 0
	for _, line := range e.StackTrace {
		size += len(line) + len(`"",`)
	}
	if size <= maxTwiceStackBytes {
		trace = &e.StackTrace
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct { // strings and string slices always marshal
		Type       string    `json:"errorType"`
		Message    string    `json:"errorMessage"`
		StackTrace []string  `json:"stackTrace"`
		Trace      *[]string `json:"trace,omitempty"`
	}{e.Type, e.Message, e.StackTrace, trace})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// MaxErrorTypeBytes bounds an error's type, which also travels in a header.
const MaxErrorTypeBytes = 256

// Sanitized is an error body from Deno made fit to post: it has a type no
// longer than a header takes, a stack trace, and a message and a stack within
// their bounds, however its sender shaped them.
func (e *Error) Sanitized() *Error {
	c := *e
	if c.Type == "" {
		c.Type = "Runtime.Unknown"
	}
	c.Type = truncateUTF8(c.Type, MaxErrorTypeBytes)
	if len(c.Message) > MaxErrorMessageBytes {
		c.Message = truncateUTF8(c.Message, MaxErrorMessageBytes) +
			fmt.Sprintf(" [cut short: the message was %d bytes]", len(c.Message))
	}
	c.StackTrace = BoundedStack(c.StackTrace)
	return &c
}

// BoundedStack is stack within MaxStackLines and MaxStackBytes (never nil):
// the start of it, and then a line that says it was cut.
func BoundedStack(stack []string) []string {
	if stack == nil {
		return []string{}
	}
	size := 0
	for i, line := range stack {
		if i == MaxStackLines-1 && len(stack) > MaxStackLines || size+len(line) > MaxStackBytes {
			kept := append(make([]string, 0, i+2), stack[:i]...)
			if left := MaxStackBytes - size; i < MaxStackLines-1 && left > 0 {
				kept = append(kept, truncateUTF8(line, left))
			}
			return append(kept, fmt.Sprintf("    [stack cut short: at most %d lines and %d bytes are kept]", MaxStackLines, MaxStackBytes))
		}
		size += len(line)
	}
	return stack
}

// maxShortMessageBytes bounds the message of an error posted again shorter.
const maxShortMessageBytes = 4 << 10

// Shortened is the error without its stack and with at most the start of its
// message, for a Runtime API that refused the whole (with status).
func (e *Error) Shortened(status int) *Error {
	msg := truncateUTF8(e.Message, maxShortMessageBytes)
	if len(msg) < len(e.Message) {
		msg += fmt.Sprintf(" [cut short: the Runtime API refused the whole error (%d)]", status)
	}
	return &Error{Type: e.Type, Message: msg, StackTrace: []string{}}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character. It
// steps back at most to where the character cut could start: bytes that are
// not UTF-8 further back are cut at n, so that s is never cut to nothing.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n]
}
