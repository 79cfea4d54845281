// stream_api is the Runtime API of deno task bench's streaming cases. The
// bench's own API (scripts/_bench_api.ts) reads a body in Deno, and a streamed
// body there costs about 2.6 ms of CPU per MB, several times what the
// contenders spend sending it: on two cores it became what the streaming
// cases measured. Lambda's Runtime API is Go, and so is this one: it reads a
// body into one reused buffer and times its first and last byte on one clock.
//
// It prints its address on its first line, then takes commands on stdin, one
// per line, and exits when stdin closes:
//
//	invoke ID PAYLOAD   queue an event (PAYLOAD in base64) with request id ID
//	reset               drop queued events; end waiting polls with 410
//
// For each result it prints a JSON line: id, kind ("response", or "error" for
// /error and a stream that ended in error trailers), bytes, and handedOut,
// firstByte and received in ms since it started.
//
//	go run bench/stream_api.go
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
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
	polls   []chan *event // nil ends a poll with 410
	handed  map[string]float64
	out     *json.Encoder
	outMu   sync.Mutex
	buffers sync.Pool
}

func (a *api) since() float64 { return float64(time.Since(a.start).Nanoseconds()) / 1e6 }

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
	defer a.mu.Unlock()
	a.queue = nil
	for _, poll := range a.polls {
		poll <- nil
	}
	a.polls = nil
	a.handed = map[string]float64{}
}

func (a *api) next(w http.ResponseWriter) {
	a.mu.Lock()
	var e *event
	if len(a.queue) > 0 {
		e = &a.queue[0]
		a.queue = a.queue[1:]
		a.mu.Unlock()
	} else {
		poll := make(chan *event, 1)
		a.polls = append(a.polls, poll)
		a.mu.Unlock()
		e = <-poll
	}
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
	w.Write(e.payload)
}

func (a *api) result(w http.ResponseWriter, r *http.Request, id, kind string) {
	buf := a.buffers.Get().(*[]byte)
	defer a.buffers.Put(buf)
	var n int64
	first := -1.0
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
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	received := a.since()
	if first < 0 {
		first = received
	}
	if r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "" {
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
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
	a.outMu.Lock()
	defer a.outMu.Unlock()
	a.out.Encode(result{id, kind, n, handedOut, first, received})
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == prefix+"next":
		a.next(w)
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

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	a := &api{start: time.Now(), handed: map[string]float64{}, out: json.NewEncoder(os.Stdout)}
	a.buffers.New = func() any { b := make([]byte, 256<<10); return &b }
	fmt.Println(ln.Addr().String())
	go func() {
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			fields := strings.Fields(lines.Text())
			switch {
			case len(fields) == 3 && fields[0] == "invoke":
				payload, err := base64.StdEncoding.DecodeString(fields[2])
				if err != nil {
					fmt.Fprintln(os.Stderr, "stream_api: a payload that is not base64:", err)
					os.Exit(1)
				}
				a.invoke(event{fields[1], payload})
			case len(fields) == 1 && fields[0] == "reset":
				a.reset()
			default:
				fmt.Fprintf(os.Stderr, "stream_api: unknown command %q\n", lines.Text())
				os.Exit(1)
			}
		}
		os.Exit(0)
	}()
	http.Serve(ln, a)
}
