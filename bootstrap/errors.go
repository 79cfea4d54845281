package main

import (
	"encoding/json"
	"errors"
	"fmt"
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

// timeoutError reports an invocation still running at its deadline.
func timeoutError(requestID string, seconds float64) *functionError {
	return newInitError("Runtime.Timeout",
		fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, seconds))
}

// shutdownError reports an invocation cut short by the environment's shutdown.
func shutdownError(requestID string) *functionError {
	return newInitError("Runtime.Shutdown", "RequestId: "+requestID+" Error: runtime shutting down")
}

// decodeFunctionError reads an error body produced by runtime.js, falling back
// to the header's type and the body as the message when the body is not what
// runtime.js writes.
func decodeFunctionError(headerType string, body []byte) *functionError {
	var fe functionError
	if err := json.Unmarshal(body, &fe); err != nil || fe.Type == "" {
		return newInitError(headerType, string(body))
	}
	if fe.StackTrace == nil {
		fe.StackTrace = []string{}
	}
	return &fe
}

func (e *functionError) body() []byte {
	b, _ := json.Marshal(e) // strings and a string slice always marshal
	return b
}
