package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// functionError is the error body the Runtime API takes on /error and
// /init/error (runtimeapi.Error).
type functionError = runtimeapi.Error

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

// exitErrorType is the type of a Deno process that exited before it answered.
const exitErrorType = "Runtime.ExitError"

// exitError reports a Deno process that ended while it owed a result, in the
// words of the managed runtimes.
func exitError(requestID string, state string) *functionError {
	msg := "Error: Runtime exited with error: " + state
	if requestID != "" {
		msg = "RequestId: " + requestID + " " + msg
	}
	return newInitError(exitErrorType, msg)
}

// timeoutError reports an invocation still running at its deadline, with the
// time it had from its arrival.
func timeoutError(inv *runtimeapi.Invocation) *functionError {
	return newInitError("Runtime.Timeout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds",
		inv.RequestID, inv.Deadline.Sub(inv.Arrived).Seconds()))
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
	var tl *httpc.TooLargeError
	var hb *httpc.HeldBackError
	switch {
	case errors.As(err, &be):
		return newInitError("Runtime.BridgeError", fmt.Sprintf("RequestId: %s Error: %v", requestID, be))
	case errors.As(err, &hb):
		return newInitError("Runtime.BridgeError", fmt.Sprintf("RequestId: %s Error: runtime.js sent %v", requestID, hb))
	case errors.As(err, &tl):
		return responseTooLarge(requestID, tl.Size)
	}
	return nil
}

// responseTooLarge reports a result the bootstrap did not read whole, in the
// words Lambda uses for one over its limit; size is -1 when unknown.
func responseTooLarge(requestID string, size int64) *functionError {
	what := fmt.Sprintf("Response payload size (%d bytes) exceeded", size)
	if size < 0 {
		what = fmt.Sprintf("Response payload size (over %d bytes) exceeded", httpc.MaxBodyBytes)
	}
	return newInitError("Function.ResponseSizeTooLarge", fmt.Sprintf(
		"RequestId: %s Error: %s maximum allowed payload size (%d bytes).", requestID, what, runtimeapi.MaxResponseBytes))
}

// decodeFunctionError reads an error body produced by runtime.js, falling back
// to the header's type and the body as the message when the body is not what
// runtime.js writes.
func decodeFunctionError(headerType string, body []byte) *functionError {
	var sent struct {
		Type       string       `json:"errorType"`
		Message    string       `json:"errorMessage"`
		StackTrace boundedStack `json:"stackTrace"`
	}
	if err := json.Unmarshal(body, &sent); err != nil || (sent.Type == "" && sent.Message == "" && sent.StackTrace == nil) {
		return newInitError(headerType, string(body)).Sanitized()
	}
	fe := functionError{Type: sent.Type, Message: sent.Message, StackTrace: sent.StackTrace}
	if fe.Type == "" {
		fe.Type = headerType
	}
	return fe.Sanitized()
}

// boundedStack decodes a JSON list of strings, keeping its first lines only:
// a function can make a stack of millions of empty lines, each of which would
// cost a slice entry many times its size in the body.
type boundedStack []string

func (s *boundedStack) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("a stack trace is a list of strings, not %.20s", data)
	}
	lines := []string{}
	for dec.More() && len(lines) <= runtimeapi.MaxStackLines {
		var line string
		if err := dec.Decode(&line); err != nil {
			return err
		}
		lines = append(lines, line)
	}
	*s = lines // one more than the bound when there are more, so that it is cut and says so
	return nil
}

// truncateBytes is b cut to at most n bytes.
func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
