package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
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

// maxResponseBytes is the Runtime API's limit on a buffered response: 6 MiB
// plus 100 bytes. The API answers 413 above it.
const maxResponseBytes = 6*1024*1024 + 100

// invocation is one event handed out by GET /next.
type invocation struct {
	requestID       string
	deadline        time.Time // zero when the header is absent
	functionARN     string
	traceID         string
	clientContext   string
	cognitoIdentity string
	tenantID        string
	payload         []byte
}

// runtimeAPI is a client of the Lambda Runtime API.
type runtimeAPI struct {
	base   string
	client *http.Client
}

func newRuntimeAPI(address string) *runtimeAPI {
	return &runtimeAPI{
		base: "http://" + address + "/2018-06-01/runtime",
		// No timeout: GET /next blocks until an event arrives, and the sandbox
		// is frozen in between, so any client timeout would fire spuriously.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}},
	}
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
// keeps running and is billed.
func (a *runtimeAPI) next(ctx context.Context) (*invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/invocation/next", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get next invocation: %w", err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, fmt.Errorf("read next invocation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{"GET", "/invocation/next", resp.StatusCode, string(body)}
	}
	h := resp.Header
	inv := &invocation{
		requestID:       h.Get(headerRequestID),
		functionARN:     h.Get(headerFunctionARN),
		traceID:         h.Get(headerTraceID),
		clientContext:   h.Get(headerClientContext),
		cognitoIdentity: h.Get(headerCognitoIdentity),
		tenantID:        h.Get(headerTenantID),
		payload:         body,
	}
	if inv.requestID == "" {
		return nil, fmt.Errorf("get next invocation: no %s header", headerRequestID)
	}
	if ms := h.Get(headerDeadlineMs); ms != "" {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("get next invocation: bad %s %q", headerDeadlineMs, ms)
		}
		inv.deadline = time.UnixMilli(n)
	}
	return inv, nil
}

// postResponse sends the handler's result. The invocation stays open until the
// next call to next.
func (a *runtimeAPI) postResponse(ctx context.Context, requestID string, body []byte) error {
	return a.post(ctx, "/invocation/"+requestID+"/response", "application/json", "", body)
}

// postError reports a failed invocation; the environment keeps serving.
func (a *runtimeAPI) postError(ctx context.Context, requestID string, fe *functionError) error {
	return a.post(ctx, "/invocation/"+requestID+"/error", contentTypeError, fe.Type, fe.body())
}

// postInitError reports that the function cannot start. The caller exits
// afterwards; Lambda returns the error to the first invoke.
func (a *runtimeAPI) postInitError(ctx context.Context, fe *functionError) error {
	return a.post(ctx, "/init/error", contentTypeError, fe.Type, fe.body())
}

func (a *runtimeAPI) post(ctx context.Context, path, contentType, errorType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if errorType != "" {
		req.Header.Set(headerErrorType, errorType)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return &statusError{"POST", path, resp.StatusCode, string(bytes.TrimSpace(answer))}
	}
	return nil
}

// maxPresized bounds the buffer readBody allocates up front on the word of a
// Content-Length header: a little over Lambda's 6 MB payload limit.
const maxPresized = 8 << 20

// readBody reads a whole body into a buffer of the size its Content-Length
// announces, instead of growing one by doubling: a 1 MB event then costs 1 MB
// of heap, not 2 to 3 MB of garbage, which keeps the bootstrap's RSS low.
func readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > maxPresized {
		return io.ReadAll(resp.Body)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		return nil, err
	}
	return body, nil
}
