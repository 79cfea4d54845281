package runtimeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestNextReadsEventAndHeaders(t *testing.T) {
	// The header names as the Runtime API spells them, not the constants.
	deadline := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/2018-06-01/runtime/invocation/next" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "id-1")
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:f")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-abc")
		h.Set("Lambda-Runtime-Client-Context", `{"custom":{}}`)
		h.Set("Lambda-Runtime-Cognito-Identity", `{"cognitoIdentityId":"x"}`)
		h.Set("Lambda-Runtime-Aws-Tenant-Id", "t-1")
		h.Set("Lambda-Runtime-Invocation-Id", "inv-1")
		io.WriteString(w, `{"a":1}`)
	}))
	defer srv.Close()
	inv, err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Invocation{RequestID: "id-1", Deadline: deadline, FunctionARN: "arn:aws:lambda:us-east-1:1:function:f",
		TraceID: "Root=1-abc", ClientContext: `{"custom":{}}`, CognitoIdentity: `{"cognitoIdentityId":"x"}`,
		TenantID: "t-1", InvocationID: "inv-1", Payload: []byte(`{"a":1}`)}
	if inv.RequestID != want.RequestID || !inv.Deadline.Equal(want.Deadline) || inv.FunctionARN != want.FunctionARN ||
		inv.TraceID != want.TraceID || inv.ClientContext != want.ClientContext ||
		inv.CognitoIdentity != want.CognitoIdentity || inv.TenantID != want.TenantID || inv.InvocationID != want.InvocationID ||
		string(inv.Payload) != string(want.Payload) ||
		inv.DeadlineProblem != "" || inv.Stalled {
		t.Errorf("got %+v, want %+v", *inv, want)
	}
}

func TestNextFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }},
		{"no request id", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }},
		{"an event over the size limit", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(HeaderRequestID, "id")
			w.Header().Set("Content-Length", strconv.Itoa(httpc.MaxBodyBytes+1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			if _, err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Next(context.Background()); err == nil {
				t.Fatal("got nil error")
			}
		})
	}
}

func TestPostsCarryTypeContentTypeAndInvocationID(t *testing.T) {
	type seen struct{ path, contentType, errorType, invocationID, body string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Lambda-Runtime-Function-Error-Type"),
			r.Header.Get("Lambda-Runtime-Invocation-Id"), string(b)})
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	api := New(srv.Listener.Addr().String(), FunctionTimeout(""))
	ctx := context.Background()
	fe := &Error{Type: "Runtime.HandlerNotFound", Message: "x is not a function", StackTrace: []string{}}
	if err := api.Respond(ctx, &Invocation{RequestID: "id-1"}, []byte(`"ok"`)); err != nil {
		t.Fatal(err)
	}
	if err := api.Fail(ctx, &Invocation{RequestID: "id-2", InvocationID: "inv-2"}, fe); err != nil {
		t.Fatal(err)
	}
	if err := api.InitError(ctx, fe); err != nil {
		t.Fatal(err)
	}
	errBody := `{"errorType":"Runtime.HandlerNotFound","errorMessage":"x is not a function","stackTrace":[],"trace":[]}`
	want := []seen{
		{"/2018-06-01/runtime/invocation/id-1/response", "application/json", "", "", `"ok"`},
		{"/2018-06-01/runtime/invocation/id-2/error", contentTypeError, "Runtime.HandlerNotFound", "inv-2", errBody},
		{"/2018-06-01/runtime/init/error", contentTypeError, "Runtime.HandlerNotFound", "", errBody},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("post %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPostStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	defer srv.Close()
	err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Respond(context.Background(), &Invocation{RequestID: "id"}, []byte("{}"))
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 413 {
		t.Fatalf("got %v, want a 413 statusError", err)
	}
}

func TestNextReadsEventsWithAndWithoutLength(t *testing.T) {
	event := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		name   string
		length string // the Content-Length header, "" for chunked
	}{
		{"content length", strconv.Itoa(len(event))},
		{"chunked", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(HeaderRequestID, "id-1")
				if tc.length != "" {
					w.Header().Set("Content-Length", tc.length)
				}
				io.WriteString(w, event[:50_000])
				w.(http.Flusher).Flush()
				io.WriteString(w, event[50_000:])
			}))
			defer srv.Close()
			inv, err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if string(inv.Payload) != event {
				t.Errorf("got %d bytes, want %d", len(inv.Payload), len(event))
			}
		})
	}
}

func TestNextGivesAnUnusableDeadlineTheFallback(t *testing.T) {
	for _, header := range []string{"", "soon", "0", "-5", "1e3", "99999999999999999999", "1700000000123"} {
		t.Run(header, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(HeaderRequestID, "id")
				if header != "" {
					w.Header().Set(HeaderDeadlineMs, header)
				}
				io.WriteString(w, "{}")
			}))
			defer srv.Close()
			before := time.Now()
			inv, err := New(srv.Listener.Addr().String(), FunctionTimeout("7")).Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if inv.DeadlineProblem == "" || inv.Deadline.Before(before.Add(7*time.Second)) ||
				inv.Deadline.After(time.Now().Add(7*time.Second)) {
				t.Errorf("deadline %v (%q), want 7 s from now and a problem", inv.Deadline, inv.DeadlineProblem)
			}
		})
	}
}

func TestNextTimesOutAnEventThatStalls(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(HeaderRequestID, "stalls")
		w.Header().Set(HeaderDeadlineMs, strconv.FormatInt(time.Now().Add(300*time.Millisecond).UnixMilli(), 10))
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"half":`)
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	inv, err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Next(context.Background())
	if err != nil || !inv.Stalled || inv.RequestID != "stalls" {
		t.Fatalf("got %+v, %v; want the invocation, stalled", inv, err)
	}
}

func TestHeaderSafe(t *testing.T) {
	if got := headerSafe("Bad\r\nName\tü"); got != "Bad__Name__" {
		t.Errorf("headerSafe = %q", got)
	}
	if got := headerSafe("Runtime.HandlerError"); got != "Runtime.HandlerError" {
		t.Errorf("headerSafe changed a clean name to %q", got)
	}
}

func TestFailPostsAShorterErrorWhenTheWholeIsRefused(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(b) > 10_000 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	fe := &Error{Type: "Error", Message: strings.Repeat("m", 20_000), StackTrace: []string{strings.Repeat("s", 20_000)}}
	if err := New(srv.Listener.Addr().String(), FunctionTimeout("")).Fail(context.Background(), &Invocation{RequestID: "id"}, fe); err != nil {
		t.Fatalf("Fail = %v, want the shorter error accepted", err)
	}
	if len(bodies) != 2 || !strings.Contains(bodies[1], "cut short: the Runtime API refused the whole error (413)") ||
		strings.Contains(bodies[1], "sss") {
		t.Errorf("posted %d bodies; the second %.200q, want the message's start without the stack", len(bodies), bodies[len(bodies)-1])
	}
}

func TestFailDoesNotRetryAfter410(t *testing.T) {
	var posts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		posts = append(posts, r.URL.Path+" "+r.Header.Get("Lambda-Runtime-Invocation-Id"))
		w.WriteHeader(http.StatusGone)
	}))
	defer srv.Close()
	api := New(srv.Listener.Addr().String(), FunctionTimeout(""))
	inv := &Invocation{RequestID: "id", InvocationID: "inv-late"}
	err := api.Fail(context.Background(), inv, &Error{Type: "Error", Message: "late", StackTrace: []string{}})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != StatusGone {
		t.Fatalf("Fail = %v, want the 410", err)
	}
	if err := api.Respond(context.Background(), inv, []byte(`"late"`)); err == nil {
		t.Fatal("Respond = nil, want the 410")
	}
	want := []string{"/2018-06-01/runtime/invocation/id/error inv-late", "/2018-06-01/runtime/invocation/id/response inv-late"}
	if !slices.Equal(posts, want) {
		t.Errorf("posts %q, want %q: one each, echoing the id", posts, want)
	}
}

func TestErrorBodySendsAStackTwiceOnlyWhenSmall(t *testing.T) {
	small := (&Error{Type: "E", Message: "m", StackTrace: []string{"E: m", "    at f"}}).Body()
	if want := `{"errorType":"E","errorMessage":"m","stackTrace":["E: m","    at f"],"trace":["E: m","    at f"]}`; string(small) != want {
		t.Errorf("small stack: %s, want %s", small, want)
	}
	// A stack a function shaped to megabytes goes once, under Lambda's name.
	big := (&Error{Type: "E", Message: "m", StackTrace: []string{strings.Repeat("s", 100_000)}}).Body()
	if strings.Contains(string(big), `"trace"`) || !strings.Contains(string(big), `"stackTrace":["sss`) {
		t.Errorf("big stack: %.120s..., want stackTrace alone", big)
	}
}

// A streamed response reaches a Go net/http server (as AWS's emulator is) as it
// is sent: the mode, the content type, the invocation id, the body, and an
// error in the trailers, however long the function made it.
func TestRespondStreamingReachesANetHTTPServer(t *testing.T) {
	type seen struct {
		mode, contentType, invocationID, body, errorType string
		errorBody                                        map[string]any
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		s := seen{mode: r.Header.Get("Lambda-Runtime-Function-Response-Mode"), contentType: r.Header.Get("Content-Type"),
			invocationID: r.Header.Get(HeaderInvocationID), body: string(b), errorType: r.Trailer.Get(HeaderErrorType)}
		if raw, err := base64.StdEncoding.DecodeString(r.Trailer.Get(HeaderErrorBody)); err == nil && len(raw) > 0 {
			json.Unmarshal(raw, &s.errorBody)
		}
		got <- s
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	api := New(srv.Listener.Addr().String(), FunctionTimeout(""))
	inv := &Invocation{RequestID: "id-1", InvocationID: "inv-1"}
	long := &Error{Type: "LateError\r\nX: y", Message: strings.Repeat("m", 20_000), StackTrace: slices.Repeat([]string{"at f (x.ts:1:1)"}, 500)}
	for _, tc := range []struct {
		fail      *Error
		wantType  string
		wantTrace bool
	}{
		{nil, "", false},
		{&Error{Type: "LateError", Message: "half way", StackTrace: []string{"at f"}}, "LateError", true},
		{long, "LateError__X: y", false},
	} {
		trailer := func() []httpc.Field { return nil }
		if tc.fail != nil {
			trailer = func() []httpc.Field { return StreamError(tc.fail) }
		}
		body := iotest.OneByteReader(strings.NewReader("hello"))
		if err := api.RespondStreaming(context.Background(), inv, "text/plain", body, trailer); err != nil {
			t.Fatal(err)
		}
		s := <-got
		if s.mode != "streaming" || s.contentType != "text/plain" || s.invocationID != "inv-1" || s.body != "hello" {
			t.Errorf("the server saw %+v", s)
		}
		if s.errorType != tc.wantType {
			t.Errorf("error type %q, want %q", s.errorType, tc.wantType)
		}
		if tc.fail == nil {
			continue
		}
		if s.errorBody["errorType"] != tc.fail.Type || s.errorBody["errorMessage"] == nil {
			t.Errorf("error body %v", s.errorBody)
		}
		if trace, _ := s.errorBody["trace"].([]any); (len(trace) > 0) != tc.wantTrace {
			t.Errorf("trace %v, want one: %v", trace, tc.wantTrace)
		}
	}
}
