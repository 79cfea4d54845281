// stream_api is the Runtime API of deno task bench's streaming cases. The
// bench's own API (scripts/_bench_api.ts) reads a body in Deno, which costs
// more CPU per byte than the contenders spend sending it, so on a small
// machine it became what the streaming cases measured (docs/benchmarks.md,
// Streaming). Lambda's Runtime API is Go, and so is this one: it reads a body
// into one reused buffer and times its first and last byte on one clock.
//
// It prints its address on its first line, then takes commands on stdin, one
// per line, and exits when stdin closes:
//
//	invoke ID PAYLOAD   queue an event (PAYLOAD in base64) with request id ID
//	reset               drop queued events and the hand-outs not answered,
//	                    end waiting polls with 410, then print {"reset":true}
//
// For each result it prints a JSON line: id, kind ("response"; "error" for
// /error, a stream that ended in error trailers, or a body cut off), bytes,
// and handedOut, firstByte and received in ms since it started.
//
//	go run bench/stream_api.go
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/invocation/"

type event struct {
	id      string
	payload []byte
}

type result struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Bytes     int64   `json:"bytes"`
	HandedOut float64 `json:"handedOut"`
	FirstByte float64 `json:"firstByte"`
	Received  float64 `json:"received"`
}

type api struct {
	start   time.Time
	mu      sync.Mutex
	queue   []event
	polls   []chan *event // each buffered for one; nil ends a poll with 410
	handed  map[string]float64
	out     *json.Encoder
	outMu   sync.Mutex
	buffers sync.Pool
}

func (a *api) since() float64 { return float64(time.Since(a.start).Nanoseconds()) / 1e6 }

// print writes one line for the bench; a bench gone away ends this program.
func (a *api) print(v any) {
	a.outMu.Lock()
	defer a.outMu.Unlock()
	if err := a.out.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, "stream_api: the bench stopped reading:", err)
		os.Exit(1)
	}
}

func (a *api) invoke(e event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.polls) > 0 {
		poll := a.polls[0]
		a.polls = a.polls[1:]
		poll <- &e
		return
	}
	a.queue = append(a.queue, e)
}

func (a *api) reset() {
	a.mu.Lock()
	a.queue = nil
	for _, poll := range a.polls {
		poll <- nil
	}
	a.polls = nil
	a.handed = map[string]float64{}
	a.mu.Unlock()
	a.print(map[string]bool{"reset": true})
}

// take waits for an event for one GET /next; nil when reset ended the wait or
// the poll's client went away. An event handed to a poll whose client went
// away goes back to the front of the queue.
func (a *api) take(r *http.Request) *event {
	a.mu.Lock()
	if len(a.queue) > 0 {
		e := a.queue[0]
		a.queue = a.queue[1:]
		a.mu.Unlock()
		return &e
	}
	poll := make(chan *event, 1)
	a.polls = append(a.polls, poll)
	a.mu.Unlock()
	select {
	case e := <-poll:
		return e
	case <-r.Context().Done():
		a.mu.Lock()
		defer a.mu.Unlock()
		for i, p := range a.polls {
			if p == poll {
				a.polls = append(a.polls[:i], a.polls[i+1:]...)
				return nil
			}
		}
		if e := <-poll; e != nil { // handed to it meanwhile
			a.queue = append([]event{*e}, a.queue...)
		}
		return nil
	}
}

func (a *api) next(w http.ResponseWriter, r *http.Request) {
	e := a.take(r)
	if e == nil {
		w.WriteHeader(http.StatusGone)
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", e.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(e.payload)))
	a.mu.Lock()
	a.handed[e.id] = a.since()
	a.mu.Unlock()
	w.Write(e.payload) // a contender gone fails its case on its side
}

func (a *api) result(w http.ResponseWriter, r *http.Request, id, kind string) {
	buf := a.buffers.Get().(*[]byte)
	defer a.buffers.Put(buf)
	var n int64
	first := -1.0
	var readErr error
	for {
		m, err := r.Body.Read(*buf)
		if m > 0 && first < 0 {
			first = a.since()
		}
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	received := a.since()
	if first < 0 {
		first = received
	}
	if readErr != nil || r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "" {
		kind = "error"
	}
	a.mu.Lock()
	handedOut, ok := a.handed[id]
	delete(a.handed, id)
	a.mu.Unlock()
	if !ok {
		http.Error(w, "unknown request id", http.StatusBadRequest)
		return
	}
	a.print(result{id, kind, n, handedOut, first, received})
	if readErr != nil {
		http.Error(w, readErr.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == prefix+"next":
		a.next(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(path, prefix) && strings.HasSuffix(path, "/response"):
		a.result(w, r, strings.TrimSuffix(strings.TrimPrefix(path, prefix), "/response"), "response")
	case r.Method == http.MethodPost && strings.HasPrefix(path, prefix) && strings.HasSuffix(path, "/error"):
		a.result(w, r, strings.TrimSuffix(strings.TrimPrefix(path, prefix), "/error"), "error")
	case r.Method == http.MethodPost && path == "/2018-06-01/runtime/init/error":
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		fmt.Fprintf(os.Stderr, "init error: %s\n", body)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// commands carries out stdin's commands until it closes.
func (a *api) commands(stdin io.Reader) error {
	lines := bufio.NewScanner(stdin)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		switch {
		case len(fields) == 3 && fields[0] == "invoke":
			payload, err := base64.StdEncoding.DecodeString(fields[2])
			if err != nil {
				return fmt.Errorf("a payload that is not base64: %w", err)
			}
			a.invoke(event{fields[1], payload})
		case len(fields) == 1 && fields[0] == "reset":
			a.reset()
		default:
			return fmt.Errorf("unknown command %q", lines.Text())
		}
	}
	return lines.Err()
}

func run() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	a := &api{start: time.Now(), handed: map[string]float64{}, out: json.NewEncoder(os.Stdout)}
	a.buffers.New = func() any { b := make([]byte, 256<<10); return &b }
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: a}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	done := make(chan error, 1)
	go func() { done <- a.commands(os.Stdin) }()
	select {
	case err := <-served:
		return err
	case err := <-done:
		srv.Close()
		if e := <-served; err == nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
		return err
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stream_api:", err)
		os.Exit(1)
	}
}
