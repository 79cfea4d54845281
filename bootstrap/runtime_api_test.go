package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNextReadsEventAndHeaders(t *testing.T) {
	deadline := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/2018-06-01/runtime/invocation/next" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		h := w.Header()
		h.Set(headerRequestID, "id-1")
		h.Set(headerDeadlineMs, strconv.FormatInt(deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, "arn:aws:lambda:us-east-1:1:function:f")
		h.Set(headerTraceID, "Root=1-abc")
		h.Set(headerClientContext, `{"custom":{}}`)
		h.Set(headerCognitoIdentity, `{"cognitoIdentityId":"x"}`)
		h.Set(headerTenantID, "t-1")
		io.WriteString(w, `{"a":1}`)
	}))
	defer srv.Close()
	inv, err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("")).next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := invocation{requestID: "id-1", deadline: deadline, functionARN: "arn:aws:lambda:us-east-1:1:function:f",
		traceID: "Root=1-abc", clientContext: `{"custom":{}}`, cognitoIdentity: `{"cognitoIdentityId":"x"}`,
		tenantID: "t-1", payload: []byte(`{"a":1}`)}
	if inv.requestID != want.requestID || !inv.deadline.Equal(want.deadline) || inv.functionARN != want.functionARN ||
		inv.traceID != want.traceID || inv.clientContext != want.clientContext ||
		inv.cognitoIdentity != want.cognitoIdentity || inv.tenantID != want.tenantID || string(inv.payload) != string(want.payload) ||
		inv.deadlineProblem != "" || inv.stalled {
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
			w.Header().Set(headerRequestID, "id")
			w.Header().Set("Content-Length", strconv.Itoa(maxBodyBytes+1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			if _, err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("")).next(context.Background()); err == nil {
				t.Fatal("got nil error")
			}
		})
	}
}

func TestPostsCarryTypeAndContentType(t *testing.T) {
	type seen struct{ path, contentType, errorType, body string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get(headerErrorType), string(b)})
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	api := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout(""))
	ctx := context.Background()
	fe := newInitError("Runtime.HandlerNotFound", "x is not a function")
	if err := api.postResponse(ctx, "id-1", []byte(`"ok"`)); err != nil {
		t.Fatal(err)
	}
	if err := api.postError(ctx, "id-2", fe); err != nil {
		t.Fatal(err)
	}
	if err := api.postInitError(ctx, fe); err != nil {
		t.Fatal(err)
	}
	errBody := `{"errorType":"Runtime.HandlerNotFound","errorMessage":"x is not a function","stackTrace":[]}`
	want := []seen{
		{"/2018-06-01/runtime/invocation/id-1/response", "application/json", "", `"ok"`},
		{"/2018-06-01/runtime/invocation/id-2/error", contentTypeError, "Runtime.HandlerNotFound", errBody},
		{"/2018-06-01/runtime/init/error", contentTypeError, "Runtime.HandlerNotFound", errBody},
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
	err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("")).postResponse(context.Background(), "id", []byte("{}"))
	var se *statusError
	if !errors.As(err, &se) || se.code != 413 {
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
				w.Header().Set(headerRequestID, "id-1")
				if tc.length != "" {
					w.Header().Set("Content-Length", tc.length)
				}
				io.WriteString(w, event[:50_000])
				w.(http.Flusher).Flush()
				io.WriteString(w, event[50_000:])
			}))
			defer srv.Close()
			inv, err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("")).next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if string(inv.payload) != event {
				t.Errorf("got %d bytes, want %d", len(inv.payload), len(event))
			}
		})
	}
}

func TestNextGivesAnUnusableDeadlineTheFallback(t *testing.T) {
	for _, header := range []string{"", "soon", "0", "-5", "1e3", "99999999999999999999", "1700000000123"} {
		t.Run(header, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(headerRequestID, "id")
				if header != "" {
					w.Header().Set(headerDeadlineMs, header)
				}
				io.WriteString(w, "{}")
			}))
			defer srv.Close()
			before := time.Now()
			inv, err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("7")).next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if inv.deadlineProblem == "" || inv.deadline.Before(before.Add(7*time.Second)) ||
				inv.deadline.After(time.Now().Add(7*time.Second)) {
				t.Errorf("deadline %v (%q), want 7 s from now and a problem", inv.deadline, inv.deadlineProblem)
			}
		})
	}
}

func TestNextTimesOutAnEventThatStalls(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerRequestID, "stalls")
		w.Header().Set(headerDeadlineMs, strconv.FormatInt(time.Now().Add(300*time.Millisecond).UnixMilli(), 10))
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"half":`)
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	inv, err := newRuntimeAPI(srv.Listener.Addr().String(), functionTimeout("")).next(context.Background())
	if err != nil || !inv.stalled || inv.requestID != "stalls" {
		t.Fatalf("got %+v, %v; want the invocation, stalled", inv, err)
	}
}
