package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// functionError is the error body the Runtime API expects on /error and
// /init/error. Its Type also goes into Lambda-Runtime-Function-Error-Type.
type functionError struct {
	Type       string   `json:"errorType"`
	Message    string   `json:"errorMessage"`
	StackTrace []string `json:"stackTrace"`
}

func (e *functionError) Error() string { return e.Type + ": " + e.Message }

func newInitError(errorType, message string) *functionError {
	return &functionError{Type: errorType, Message: message, StackTrace: []string{}}
}

// asFunctionError keeps a *functionError and wraps any other error.
func asFunctionError(err error) *functionError {
	var fe *functionError
	if errors.As(err, &fe) {
		return fe
	}
	return newInitError("Runtime.Unknown", err.Error())
}

// exitError reports a Deno process that ended while it owed a result, in the
// words of the managed runtimes.
func exitError(requestID string, state string) *functionError {
	msg := "Error: Runtime exited with error: " + state
	if requestID != "" {
		msg = "RequestId: " + requestID + " " + msg
	}
	return newInitError("Runtime.ExitError", msg)
}

// timeoutError reports an invocation still running at its deadline, with the
// time it had from its arrival.
func timeoutError(inv *invocation) *functionError {
	return newInitError("Runtime.Timeout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds",
		inv.requestID, inv.deadline.Sub(inv.arrived).Seconds()))
}

// shutdownError reports an invocation cut short by the environment's shutdown.
func shutdownError(requestID string) *functionError {
	return newInitError("Runtime.Shutdown", "RequestId: "+requestID+" Error: runtime shutting down")
}

// bridgeError is something runtime.js should never have sent, such as a
// malformed frame: the function's code shaped it.
type bridgeError struct{ what string }

func (e *bridgeError) Error() string { return "runtime.js sent " + e.what }

// refusedAnswer is the invocation's error for an answer from Deno that the
// bootstrap will not post (malformed, or larger than a response may be); nil
// for any other error.
func refusedAnswer(requestID string, err error) *functionError {
	var be *bridgeError
	var tl *tooLargeError
	switch {
	case errors.As(err, &be):
		return newInitError("Runtime.BridgeError", fmt.Sprintf("RequestId: %s Error: %v", requestID, be))
	case errors.As(err, &tl):
		return responseTooLarge(requestID, tl.size)
	}
	return nil
}

// responseTooLarge reports a result the bootstrap did not read whole, in the
// words Lambda uses for one over its limit; size is -1 when unknown.
func responseTooLarge(requestID string, size int64) *functionError {
	what := fmt.Sprintf("Response payload size (%d bytes) exceeded", size)
	if size < 0 {
		what = fmt.Sprintf("Response payload size (over %d bytes) exceeded", maxBodyBytes)
	}
	return newInitError("Function.ResponseSizeTooLarge", fmt.Sprintf(
		"RequestId: %s Error: %s maximum allowed payload size (%d bytes).", requestID, what, maxResponseBytes))
}

// maxErrorTypeBytes bounds an error's type, which also travels in a header.
const maxErrorTypeBytes = 256

// sanitized is an error body from Deno made fit to post: it has a type no
// longer than a header takes, and a stack trace, however its sender shaped it.
func (e *functionError) sanitized() *functionError {
	c := *e
	if c.Type == "" {
		c.Type = "Runtime.Unknown"
	}
	c.Type = truncateUTF8(c.Type, maxErrorTypeBytes)
	if c.StackTrace == nil {
		c.StackTrace = []string{}
	}
	return &c
}

// maxShortMessageBytes bounds the message of an error posted again shorter.
const maxShortMessageBytes = 4 << 10

// shortened is the error without its stack and with at most the start of its
// message, for a Runtime API that refused the whole (with status).
func (e *functionError) shortened(status int) *functionError {
	msg := truncateUTF8(e.Message, maxShortMessageBytes)
	if len(msg) < len(e.Message) {
		msg += fmt.Sprintf(" [cut short: the Runtime API refused the whole error (%d)]", status)
	}
	return &functionError{Type: e.Type, Message: msg, StackTrace: []string{}}
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

// decodeFunctionError reads an error body produced by runtime.js, falling back
// to the header's type and the body as the message when the body is not what
// runtime.js writes.
func decodeFunctionError(headerType string, body []byte) *functionError {
	var fe functionError
	if err := json.Unmarshal(body, &fe); err != nil || (fe.Type == "" && fe.Message == "" && fe.StackTrace == nil) {
		return newInitError(headerType, string(body)).sanitized()
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	return fe.sanitized()
}

func (e *functionError) body() []byte {
	b, _ := json.Marshal(e) // strings and a string slice always marshal
	return b
}
