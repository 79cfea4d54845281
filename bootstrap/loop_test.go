package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeAPI hands out events, answers posts with the given statuses, and
// answers /next with 410 once the events run out, which ends serve.
type fakeAPI struct {
	mu         sync.Mutex
	events     []string
	postStatus map[string]int // by request id; 202 when absent
	posts      []string       // "id kind body"
	incomplete []string       // "id kind": posts whose body ended before its length
	cutPosts   chan struct{}  // a value per incomplete post, once recorded
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/2018-06-01/runtime/invocation/next" {
		if len(f.events) == 0 {
			w.WriteHeader(http.StatusGone)
			return
		}
		id := fmt.Sprintf("id-%d", len(f.posts))
		w.Header().Set(runtimeapi.HeaderRequestID, id)
		io.WriteString(w, f.events[0])
		f.events = f.events[1:]
		return
	}
	parts := strings.Split(r.URL.Path, "/")
	id, kind := parts[len(parts)-2], parts[len(parts)-1]
	body, err := io.ReadAll(r.Body)
	if err != nil { // as the Runtime API does, an incomplete post counts for nothing
		f.incomplete = append(f.incomplete, id+" "+kind)
		f.cutPosts <- struct{}{}
		return
	}
	f.posts = append(f.posts, id+" "+kind+" "+string(body))
	if code, ok := f.postStatus[id]; ok {
		w.WriteHeader(code)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// fakeInvoker answers events by their payload: "fail" fails, "break" fails
// and breaks the process, "cut" streams a result from cutSource that stops
// halfway, anything else (a streamed event too) is echoed.
type fakeInvoker struct {
	resets, stops int
	cutSource     *httpc.Client
	cuts          []error // what cutOff was told
}

func (f *fakeInvoker) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	if inv.Event != nil {
		body, err := inv.Event.ReadAll(context.Background())
		if err != nil {
			return outcome{apiErr: err}
		}
		return outcome{response: body}
	}
	switch string(inv.Payload) {
	case `"cut"`:
		resp, err := f.cutSource.DoStream(ctx, &httpc.Request{Method: "GET", Path: "/result"})
		if err != nil {
			return outcome{err: newInitError("Test", err.Error())}
		}
		return outcome{result: resp.Stream, recycle: resp.Stream.Finish, cutOff: func(err error) *functionError {
			f.cuts = append(f.cuts, err)
			return exitError(inv.RequestID, "signal: killed")
		}}
	case `"stream"`:
		frames := frame(frameData, "streamed") + frame(frameEnd, "") + frame(frameSettled, "")
		return outcome{streamed: newStreamed("text/plain", strings.NewReader(frames), noDeadline, inv.RequestID, func(err error) (*functionError, bool) {
			return exitError(inv.RequestID, err.Error()), true
		})}
	case `"fail"`:
		return outcome{err: newInitError("Error", "failed")}
	case `"break"`:
		return outcome{err: exitError(inv.RequestID, "exit status 3"), broken: true}
	}
	return outcome{response: inv.Payload}
}
func (f *fakeInvoker) reset(context.Context, *outcome) { f.resets++ }
func (f *fakeInvoker) stop()                           { f.stops++ }

// halfABody is a peer that answers every GET with a body of size bytes and
// hangs up after the first sent of them.
func halfABody(t *testing.T, size, sent int) *httpc.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", size, bytes.Repeat([]byte("r"), sent))
				}
			}()
		}
	}()
	return httpc.NewClient(ln.Addr().String())
}

func TestServe(t *testing.T) {
	tests := []struct {
		name       string
		events     []string
		postStatus map[string]int
		wantPosts  []string
		wantResets int
		wantErr    int // the status that ended serve
		streamed   bool
	}{
		{"results and errors, then 410 ends the loop",
			[]string{`{"a":1}`, `"fail"`, `2`}, nil,
			[]string{`id-0 response {"a":1}`, `id-1 error {"errorType":"Error","errorMessage":"failed","stackTrace":[],"trace":[]}`, `id-2 response 2`},
			0, 410, false},
		{"a broken process is reset after its error is posted",
			[]string{`"break"`, `1`}, nil,
			[]string{`id-0 error {"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-0 Error: Runtime exited with error: exit status 3","stackTrace":[],"trace":[]}`, `id-1 response 1`},
			1, 410, false},
		{"413, 400 and 403 are logged and the loop goes on",
			[]string{`1`, `2`, `3`, `4`}, map[string]int{"id-0": 413, "id-1": 400, "id-2": 403},
			[]string{`id-0 response 1`, `id-1 response 2`, `id-2 response 3`, `id-3 response 4`},
			0, 410, false},
		{"413 on a streamed result is logged with the streaming limit",
			[]string{`"stream"`, `1`}, map[string]int{"id-0": 413},
			[]string{`id-0 response streamed`, `id-1 response 1`},
			0, 410, false},
		{"500 on a post ends the loop",
			[]string{`1`, `2`}, map[string]int{"id-0": 500},
			[]string{`id-0 response 1`},
			0, 500, false},
		{"a result cut off halfway is abandoned and the invocation fails",
			[]string{`"cut"`, `1`}, nil,
			[]string{`id-0 error {"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-0 Error: Runtime exited with error: signal: killed","stackTrace":[],"trace":[]}`, `id-1 response 1`},
			1, 410, false},
		{"a result cut off, then refused an error as AWS's emulator does, ends the loop",
			[]string{`"cut"`, `1`}, map[string]int{"id-0": 403},
			[]string{`id-0 error {"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-0 Error: Runtime exited with error: signal: killed","stackTrace":[],"trace":[]}`},
			0, 403, false},
		{"large events streamed from the API",
			[]string{`"` + strings.Repeat("e", 100<<10) + `"`, `2`}, nil,
			[]string{`id-0 response "` + strings.Repeat("e", 100<<10) + `"`, `id-1 response 2`},
			0, 410, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{events: tt.events, postStatus: tt.postStatus, cutPosts: make(chan struct{}, 4)}
			srv := httptest.NewServer(api)
			defer srv.Close()
			cutSource := halfABody(t, 200<<10, 100<<10)
			inv := &fakeInvoker{cutSource: cutSource}
			var logs bytes.Buffer
			rapi := runtimeapi.New(srv.Listener.Addr().String(), runtimeapi.FunctionTimeout(""))
			rapi.StreamEvents = tt.streamed
			err := serve(context.Background(), rapi, inv, newLogger(&logs, false))
			var se *runtimeapi.StatusError
			if !errors.As(err, &se) || se.Code != tt.wantErr {
				t.Fatalf("serve() = %v, want status %d", err, tt.wantErr)
			}
			if tt.wantErr == 403 && !strings.Contains(err.Error(), "cut off after 102400 of 204800 bytes (Runtime.ExitError)") {
				t.Errorf("serve() = %v; want it to say the result was cut off", err)
			}
			if strings.Join(api.posts, "\n") != strings.Join(tt.wantPosts, "\n") {
				t.Errorf("posts:\n%s\nwant:\n%s", strings.Join(api.posts, "\n"), strings.Join(tt.wantPosts, "\n"))
			}
			cut := slices.Contains(tt.events, `"cut"`)
			if cut {
				<-api.cutPosts // the server may record it after serve has moved on
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if cut != (len(api.incomplete) == 1 && len(inv.cuts) == 1) {
				t.Errorf("incomplete posts %v, cuts %v; want one each only when a result is cut off", api.incomplete, inv.cuts)
			} else if cut && !strings.Contains(logs.String(), "Runtime.ExitError") {
				t.Errorf("the cut-off invocation's error was not logged: %s", logs.String())
			}
			if inv.resets != tt.wantResets {
				t.Errorf("resets = %d, want %d", inv.resets, tt.wantResets)
			}
			if tt.postStatus["id-0"] == 413 {
				limit := fmt.Sprintf("limit of %d bytes", runtimeapi.MaxResponseBytes)
				if tt.events[0] == `"stream"` {
					limit = fmt.Sprintf("limit of %d bytes for a streamed response", runtimeapi.MaxStreamedBytes)
				}
				if !strings.Contains(logs.String(), "Function.ResponseSizeTooLarge") || !strings.Contains(logs.String(), limit) {
					t.Errorf("413 not logged with %q: %s", limit, logs.String())
				}
			}
		})
	}
}

func TestServeStopsQuietlyWhenCancelled(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, runtimeapi.New(srv.Listener.Addr().String(), runtimeapi.FunctionTimeout("")), &fakeInvoker{}, newLogger(io.Discard, false))
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve() = %v after cancel, want nil", err)
	}
}
