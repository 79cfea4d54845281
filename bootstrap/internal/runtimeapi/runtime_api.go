package runtimeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Runtime API headers on GET /next.
const (
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerClientContext   = "Lambda-Runtime-Client-Context"
	headerCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	headerTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	// HeaderInvocationID names one handing out of an event (since July 2026):
	// echoed on its answer, it keeps a late answer to an invocation that timed
	// out from landing on a newer one that reuses the request id (410 Gone).
	HeaderInvocationID = "Lambda-Runtime-Invocation-Id"
	HeaderErrorType    = "Lambda-Runtime-Function-Error-Type"
	contentTypeError   = "application/vnd.aws.lambda.error+json"
)

// Runtime API statuses the bootstrap tells apart.
const (
	statusOK                    = 200
	statusAccepted              = 202
	StatusBadRequest            = 400
	StatusForbidden             = 403
	StatusGone                  = 410
	StatusRequestEntityTooLarge = 413
)

// MaxResponseBytes is the Runtime API's limit on a buffered response: 6 MiB
// plus 100 bytes. The API answers 413 above it.
const MaxResponseBytes = 6*1024*1024 + 100

// Invocation is one event handed out by GET /next.
type Invocation struct {
	RequestID       string
	Deadline        time.Time // the header's, or now plus the fallback timeout
	DeadlineProblem string    // why the header's could not be used, "" when it was
	FunctionARN     string
	TraceID         string
	ClientContext   string
	CognitoIdentity string
	TenantID        string
	InvocationID    string // "" when the API sends none
	// Payload is the event, read whole; Event instead, when the client
	// streams events: a large event still on its connection, to pass on as
	// it arrives. Either belongs to the client: Done ends the event's
	// connection's part in it, and Recycle takes its buffer back.
	Payload []byte
	Event   *httpc.Stream
	// Stalled: the event's body did not arrive whole by the deadline, and the
	// invocation has timed out without running.
	Stalled bool
	Arrived time.Time // when its headers came
	bodies  *httpc.Buffer
}

// Done says nothing reads the event from its connection any more, which can
// then carry the next request (what is left unread of it is dropped).
func (inv *Invocation) Done() { inv.Event.Finish() }

// Recycle gives the event's buffer back for a later event, once nothing
// holds it any more: the invocation's answer is posted.
func (inv *Invocation) Recycle() { inv.bodies.Give(inv.Payload) }

// Headers are the invocation's Runtime API headers, to pass on to whoever
// runs it (runtime.js builds the handler's context from them); the deadline
// is the one it got.
func (inv *Invocation) Headers() []httpc.Field {
	h := make([]httpc.Field, 0, 8)
	add := func(k, v string) {
		if v != "" {
			h = append(h, httpc.Field{Name: k, Value: v})
		}
	}
	add(HeaderRequestID, inv.RequestID)
	add(headerFunctionARN, inv.FunctionARN)
	add(headerTraceID, inv.TraceID)
	add(headerClientContext, inv.ClientContext)
	add(headerCognitoIdentity, inv.CognitoIdentity)
	add(headerTenantID, inv.TenantID)
	if !inv.Deadline.IsZero() {
		add(HeaderDeadlineMs, strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	}
	return append(h, httpc.Field{Name: "Content-Type", Value: "application/json"})
}

// Client is a client of the Lambda Runtime API.
// It sets no timeout: GET /next blocks until an event arrives, and the sandbox
// is frozen in between, so any client timeout would fire spuriously.
type Client struct {
	http *httpc.Client
	// StreamEvents leaves large events on their connection (invocation.event).
	StreamEvents bool
	// Timeout is what an invocation gets when its deadline header is unusable.
	Timeout Timeout
}

// apiPrefix is the path of the Runtime API's version.
const apiPrefix = "/2018-06-01/runtime"

func New(address string, timeout Timeout) *Client {
	return &Client{http: httpc.NewClient(address), Timeout: timeout}
}

// Concurrently readies the client for n invocations at once (Lambda Managed
// Instances): n loops, each with a request in flight, keep their connections.
func (a *Client) Concurrently(n int) { a.http.MaxIdle = n }

// newStatusError keeps the first 4 KiB of the answer's body.
func newStatusError(method, path string, resp *httpc.Response) *StatusError {
	return &StatusError{method, path, resp.Status, string(bytes.TrimSpace(resp.Body[:min(len(resp.Body), 4096)]))}
}

// StatusError is a Runtime API answer other than the expected status.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: Runtime API answered %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// Next blocks until Lambda hands out the Next event. Calling it also tells
// Lambda the previous invocation is complete: until then, the environment
// keeps running and is billed. An event whose body does not arrive by its
// deadline comes back stalled, to be failed as a timeout.
func (a *Client) Next(ctx context.Context) (*Invocation, error) {
	var inv *Invocation
	req := &httpc.Request{Method: "GET", Path: apiPrefix + "/invocation/next",
		BodyDeadline: func(h *httpc.Response) time.Time {
			inv = a.invocationOf(h)
			return inv.Deadline
		}}
	do := a.http.Do
	if a.StreamEvents {
		do = a.http.DoStream
	}
	resp, err := do(ctx, req)
	if err != nil {
		if inv != nil && inv.RequestID != "" && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			inv.Stalled = true
			return inv, nil
		}
		return nil, fmt.Errorf("get next invocation: %w", err)
	}
	if resp.Status != statusOK {
		httpc.ReadStream(ctx, resp) // for the message; the answer is the error
		return nil, newStatusError("GET", "/invocation/next", resp)
	}
	inv.Payload, inv.Event = resp.Body, resp.Stream
	if inv.RequestID == "" {
		inv.Event.Finish()
		return nil, fmt.Errorf("get next invocation: no %s header", HeaderRequestID)
	}
	return inv, nil
}

// invocationOf reads an invocation's headers, and gives it its deadline.
func (a *Client) invocationOf(h *httpc.Response) *Invocation {
	now := time.Now()
	inv := &Invocation{
		RequestID:       h.Get(HeaderRequestID),
		FunctionARN:     h.Get(headerFunctionARN),
		TraceID:         h.Get(headerTraceID),
		ClientContext:   h.Get(headerClientContext),
		CognitoIdentity: h.Get(headerCognitoIdentity),
		TenantID:        h.Get(headerTenantID),
		InvocationID:    h.Get(HeaderInvocationID),
		Arrived:         now,
		bodies:          a.http.Bodies,
	}
	inv.Deadline, inv.DeadlineProblem = ParseDeadline(h.Get(HeaderDeadlineMs), now)
	if inv.DeadlineProblem != "" {
		inv.Deadline = now.Add(a.Timeout.D)
	}
	return inv
}

// answerHeaders are an answer's to inv: its content type, and its
// invocation's id echoed, when the API gave one.
func answerHeaders(inv *Invocation, contentType string) []httpc.Field {
	h := []httpc.Field{{Name: "Content-Type", Value: contentType}}
	if inv != nil && inv.InvocationID != "" {
		h = append(h, httpc.Field{Name: HeaderInvocationID, Value: inv.InvocationID})
	}
	return h
}

// Respond sends the handler's result. The invocation stays open until the
// next call to next.
func (a *Client) Respond(ctx context.Context, inv *Invocation, body []byte) error {
	return a.post(ctx, inv, "/invocation/"+url.PathEscape(inv.RequestID)+"/response", "application/json", "", body)
}

// RespondStream sends a result as it arrives from Deno. If the result is
// cut off, the post is abandoned halfway, so the API passes none of it on, and
// the error is a *cutError.
func (a *Client) RespondStream(ctx context.Context, inv *Invocation, result *httpc.Stream) error {
	path := "/invocation/" + url.PathEscape(inv.RequestID) + "/response"
	return a.postRequest(ctx, path, &httpc.Request{Method: "POST", Path: apiPrefix + path, Stream: result,
		Header: answerHeaders(inv, "application/json")})
}

// Streamed responses (awslambda.streamifyResponse): the body goes chunked as
// the handler writes it, and trailers say whether it ended in an error.
const (
	headerResponseMode = "Lambda-Runtime-Function-Response-Mode"
	HeaderErrorBody    = "Lambda-Runtime-Function-Error-Body"
	// MaxStreamedBytes is Lambda's limit on a streamed response.
	MaxStreamedBytes = 200 << 20
)

// RespondStreaming sends a result as the handler streams it: body's bytes as
// they come, with contentType, and then the trailers trailer gives, which
// carry the error (StreamError) when the stream ended in one. The post waits
// on the API to take each piece before reading the next from body.
func (a *Client) RespondStreaming(ctx context.Context, inv *Invocation, contentType string, body io.Reader, trailer func() []httpc.Field) error {
	path := "/invocation/" + url.PathEscape(inv.RequestID) + "/response"
	header := append(answerHeaders(inv, contentType),
		httpc.Field{Name: headerResponseMode, Value: "streaming"},
		httpc.Field{Name: "Trailer", Value: HeaderErrorType + ", " + HeaderErrorBody})
	return a.postRequest(ctx, path, &httpc.Request{Method: "POST", Path: apiPrefix + path, Header: header,
		Chunks: body, Trailer: trailer})
}

// maxStreamErrorBytes bounds the error body in a streamed response's
// trailers, base64 and all. Go's net/http server, which AWS's Runtime API
// emulator is built on, drops a trailer section over 4 KiB whole: the error
// would then be lost, and the invocation look successful.
const maxStreamErrorBytes = 3 << 10

// StreamError is the trailers of a streamed response that ended in fe, as
// AWS's Node.js runtime sends them: the type, and the error body in base64,
// in Node's shape (errorType, errorMessage, trace). A body too long for the
// trailers loses its trace, then the end of its message.
func StreamError(fe *Error) []httpc.Field {
	encode := func(message string, trace []string) string {
		b, _ := json.Marshal(struct { // strings and string slices always marshal
			Type    string   `json:"errorType"`
			Message string   `json:"errorMessage"`
			Trace   []string `json:"trace"`
		}{truncateUTF8(fe.Type, MaxErrorTypeBytes), message, trace})
		return base64.StdEncoding.EncodeToString(b)
	}
	trace := fe.StackTrace
	if trace == nil {
		trace = []string{}
	}
	body := encode(fe.Message, trace)
	for n := len(fe.Message); len(body) > maxStreamErrorBytes; n /= 2 {
		body = encode(truncateUTF8(fe.Message, n)+" [cut short to fit the trailers]", []string{})
	}
	return []httpc.Field{
		{Name: HeaderErrorType, Value: headerSafe(fe.Type)},
		{Name: HeaderErrorBody, Value: body},
	}
}

// Fail reports a failed invocation; the environment keeps serving. A function
// shapes its errors, megabytes of message or stack included: if the API
// refuses one for what it carries, a shorter one says what happened. Refusals
// about the invocation itself (400 unknown, 403 answered, 410 over) are not
// about what the error carries.
func (a *Client) Fail(ctx context.Context, inv *Invocation, fe *Error) error {
	path := "/invocation/" + url.PathEscape(inv.RequestID) + "/error"
	err := a.post(ctx, inv, path, contentTypeError, fe.Type, fe.Body())
	var se *StatusError
	if errors.As(err, &se) && se.Code >= 400 && se.Code < 500 &&
		se.Code != StatusBadRequest && se.Code != StatusForbidden && se.Code != StatusGone {
		short := fe.Shortened(se.Code)
		return a.post(ctx, inv, path, contentTypeError, short.Type, short.Body())
	}
	return err
}

// InitError reports that the function cannot start. The caller exits
// afterwards; Lambda returns the error to the first invoke.
func (a *Client) InitError(ctx context.Context, fe *Error) error {
	return a.post(ctx, nil, "/init/error", contentTypeError, fe.Type, fe.Body())
}

func (a *Client) post(ctx context.Context, inv *Invocation, path, contentType, errorType string, body []byte) error {
	req := &httpc.Request{Method: "POST", Path: apiPrefix + path, Body: body,
		Header: answerHeaders(inv, contentType)}
	if errorType != "" {
		req.Header = append(req.Header, httpc.Field{Name: HeaderErrorType, Value: headerSafe(errorType)})
	}
	return a.postRequest(ctx, path, req)
}

// postRequest sends a post and expects 202 Accepted.
func (a *Client) postRequest(ctx context.Context, path string, req *httpc.Request) error {
	resp, err := a.http.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	if resp.Status != statusAccepted {
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
	}, truncateUTF8(v, MaxErrorTypeBytes))
}
