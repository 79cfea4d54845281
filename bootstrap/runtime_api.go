package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Runtime API headers on GET /next.
const (
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerClientContext   = "Lambda-Runtime-Client-Context"
	headerCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	headerTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	contentTypeError      = "application/vnd.aws.lambda.error+json"
)

// Runtime API statuses the bootstrap tells apart.
const (
	statusOK                    = 200
	statusAccepted              = 202
	statusBadRequest            = 400
	statusForbidden             = 403
	statusRequestEntityTooLarge = 413
)

// maxResponseBytes is the Runtime API's limit on a buffered response: 6 MiB
// plus 100 bytes. The API answers 413 above it.
const maxResponseBytes = 6*1024*1024 + 100

// invocation is one event handed out by GET /next.
type invocation struct {
	requestID       string
	deadline        time.Time // the header's, or now plus the fallback timeout
	deadlineProblem string    // why the header's could not be used, "" when it was
	functionARN     string
	traceID         string
	clientContext   string
	cognitoIdentity string
	tenantID        string
	payload         []byte
	// event, instead of payload when the API streams events: a large event
	// still on its connection, for runtime1 to pass on to Deno as it arrives.
	// serve finishes it once the invocation has run.
	event *bodyStream
	// stalled: the event's body did not arrive whole by the deadline, and the
	// invocation has timed out without running.
	stalled bool
	arrived time.Time // when its headers came
}

// runtimeAPI is a client of the Lambda Runtime API.
// It sets no timeout: GET /next blocks until an event arrives, and the sandbox
// is frozen in between, so any client timeout would fire spuriously.
type runtimeAPI struct {
	client *httpClient
	// streamEvents leaves large events on their connection (invocation.event).
	streamEvents bool
	// timeout is what an invocation gets when its deadline header is unusable.
	timeout fallbackTimeout
}

// apiPrefix is the path of the Runtime API's version.
const apiPrefix = "/2018-06-01/runtime"

func newRuntimeAPI(address string, timeout fallbackTimeout) *runtimeAPI {
	return &runtimeAPI{client: newHTTPClient(address), timeout: timeout}
}

// newStatusError keeps the first 4 KiB of the answer's body.
func newStatusError(method, path string, resp *httpResponse) *statusError {
	return &statusError{method, path, resp.status, string(bytes.TrimSpace(truncateBytes(resp.body, 4096)))}
}

// statusError is a Runtime API answer other than the expected status.
type statusError struct {
	method, path string
	code         int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: Runtime API answered %d: %s", e.method, e.path, e.code, e.body)
}

// next blocks until Lambda hands out the next event. Calling it also tells
// Lambda the previous invocation is complete: until then, the environment
// keeps running and is billed. An event whose body does not arrive by its
// deadline comes back stalled, to be failed as a timeout.
func (a *runtimeAPI) next(ctx context.Context) (*invocation, error) {
	var inv *invocation
	req := &httpRequest{method: "GET", path: apiPrefix + "/invocation/next",
		bodyDeadline: func(h *httpResponse) time.Time {
			inv = a.invocationOf(h)
			return inv.deadline
		}}
	resp, err := a.client.send(ctx, req, a.streamEvents)
	if err != nil {
		if inv != nil && inv.requestID != "" && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			inv.stalled = true
			return inv, nil
		}
		return nil, fmt.Errorf("get next invocation: %w", err)
	}
	if resp.status != statusOK {
		readStream(ctx, resp) // for the message; the answer is the error
		return nil, newStatusError("GET", "/invocation/next", resp)
	}
	inv.payload, inv.event = resp.body, resp.stream
	if inv.requestID == "" {
		inv.event.finish()
		return nil, fmt.Errorf("get next invocation: no %s header", headerRequestID)
	}
	return inv, nil
}

// invocationOf reads an invocation's headers, and gives it its deadline.
func (a *runtimeAPI) invocationOf(h *httpResponse) *invocation {
	now := time.Now()
	inv := &invocation{
		requestID:       h.get(headerRequestID),
		functionARN:     h.get(headerFunctionARN),
		traceID:         h.get(headerTraceID),
		clientContext:   h.get(headerClientContext),
		cognitoIdentity: h.get(headerCognitoIdentity),
		tenantID:        h.get(headerTenantID),
		arrived:         now,
	}
	inv.deadline, inv.deadlineProblem = parseDeadline(h.get(headerDeadlineMs), now)
	if inv.deadlineProblem != "" {
		inv.deadline = now.Add(a.timeout.d)
	}
	return inv
}

// postResponse sends the handler's result. The invocation stays open until the
// next call to next.
func (a *runtimeAPI) postResponse(ctx context.Context, requestID string, body []byte) error {
	return a.post(ctx, "/invocation/"+url.PathEscape(requestID)+"/response", "application/json", "", body)
}

// postResponseStream sends a result as it arrives from Deno. If the result is
// cut off, the post is abandoned halfway, so the API passes none of it on, and
// the error is a *cutError.
func (a *runtimeAPI) postResponseStream(ctx context.Context, requestID string, result *bodyStream) error {
	path := "/invocation/" + url.PathEscape(requestID) + "/response"
	return a.postRequest(ctx, path, &httpRequest{method: "POST", path: apiPrefix + path, stream: result,
		header: []headerField{{"Content-Type", "application/json"}}})
}

// postError reports a failed invocation; the environment keeps serving.
func (a *runtimeAPI) postError(ctx context.Context, requestID string, fe *functionError) error {
	return a.post(ctx, "/invocation/"+url.PathEscape(requestID)+"/error", contentTypeError, fe.Type, fe.body())
}

// postInitError reports that the function cannot start. The caller exits
// afterwards; Lambda returns the error to the first invoke.
func (a *runtimeAPI) postInitError(ctx context.Context, fe *functionError) error {
	return a.post(ctx, "/init/error", contentTypeError, fe.Type, fe.body())
}

func (a *runtimeAPI) post(ctx context.Context, path, contentType, errorType string, body []byte) error {
	req := &httpRequest{method: "POST", path: apiPrefix + path, body: body,
		header: []headerField{{"Content-Type", contentType}}}
	if errorType != "" {
		req.header = append(req.header, headerField{headerErrorType, headerSafe(errorType)})
	}
	return a.postRequest(ctx, path, req)
}

// postRequest sends a post and expects 202 Accepted.
func (a *runtimeAPI) postRequest(ctx context.Context, path string, req *httpRequest) error {
	resp, err := a.client.do(ctx, req)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	if resp.status != statusAccepted {
		return newStatusError("POST", path, resp)
	}
	return nil
}

// headerSafe makes an error type fit a header: a function may name its errors
// anything, line breaks and all, and at any length. The body keeps the name
// as it was, up to the same length.
func headerSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '_'
		}
		return r
	}, truncateUTF8(v, maxErrorTypeBytes))
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
