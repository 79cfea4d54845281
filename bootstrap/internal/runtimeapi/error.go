package runtimeapi

import (
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

// maxTwiceStackBytes bounds a stack trace sent under both its names: a
// function may shape a stack of megabytes, which twice over would reach the
// Runtime API's limit on an error sooner, and lose the stack altogether.
const maxTwiceStackBytes = 64 << 10

// Body is the error as JSON, as the Runtime API takes it: the stack trace
// under both names, stackTrace (Lambda's documentation) and trace (AWS's
// Node.js runtime), for whoever reads the error the caller gets; a stack over
// maxTwiceStackBytes goes as stackTrace alone.
func (e *Error) Body() []byte {
	var trace *[]string
	size := 0
	for _, line := range e.StackTrace {
		size += len(line)
	}
	if size <= maxTwiceStackBytes {
		trace = &e.StackTrace
	}
	b, _ := json.Marshal(struct { // strings and string slices always marshal
		Type       string    `json:"errorType"`
		Message    string    `json:"errorMessage"`
		StackTrace []string  `json:"stackTrace"`
		Trace      *[]string `json:"trace,omitempty"`
	}{e.Type, e.Message, e.StackTrace, trace})
	return b
}

// MaxErrorTypeBytes bounds an error's type, which also travels in a header.
const MaxErrorTypeBytes = 256

// Sanitized is an error body from Deno made fit to post: it has a type no
// longer than a header takes, and a stack trace, however its sender shaped it.
func (e *Error) Sanitized() *Error {
	c := *e
	if c.Type == "" {
		c.Type = "Runtime.Unknown"
	}
	c.Type = truncateUTF8(c.Type, MaxErrorTypeBytes)
	if c.StackTrace == nil {
		c.StackTrace = []string{}
	}
	return &c
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

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
