package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bridgeTokenHeader carries the secret that runtime.js demands on every bridge
// request: the process's channel token, which travels to Deno on its stdin,
// never in argv or the environment, so no other local process can drive the
// bridge.
const bridgeTokenHeader = "X-Bridge-Token"

// statusOK is runtime.js's answer to an event it ran, whatever the handler did.
const statusOK = 200

// bridgeFatalHeader on an answer says an error escaped the handler: the
// process must not serve again, and is replaced.
const bridgeFatalHeader = "X-Bridge-Fatal"

// bridgedDeno is runtime1's Deno process: it imports the function once and then
// serves every invocation over a loopback HTTP bridge.
type bridgedDeno struct {
	*denoProcess
	client *httpc.Client
	// streams: the handler streams its results, on stream connections
	// (long_lived_streams.go) that arrive on channels; those kept for the
	// next invocations are idle.
	streams    bool
	channels   *channelListener
	idle       []*streamConn // under mu
	maxStreams int           // kept idle at most: as many as may stream at once
	// concurrent: the process serves several invocations at once (Managed
	// Instances), so one past its deadline fails alone and leaves the
	// process be.
	concurrent bool
	mu         sync.Mutex
	inFlight   int // invocations being served or streaming their result
	// retired: an invocation it served came back broken (an error escaped,
	// say), so it serves no other, though it may not have exited yet.
	retired atomic.Bool
}

// startBridgedDeno starts Deno, hands it the function to import and waits until
// it reports the bridge ready. A *functionError means the function cannot be
// initialised; it is meant for /runtime/init/error.
// Large results are read into results, which outlives the process.
func startBridgedDeno(ctx context.Context, cfg config, env []string, channels *channelListener, results *httpc.Buffer) (*bridgedDeno, error) {
	p, err := startDeno(cfg, env, channels,
		controlMessage{Bundle: cfg.bundlePath, Export: cfg.exportPath, Handler: cfg.handler}, true)
	if err != nil {
		return nil, err
	}
	ready, err := p.awaitReady(ctx)
	if err != nil {
		return nil, err
	}
	p.channel.Load().close() // runtime1 says nothing more on it
	if ready.Port <= 0 || ready.Port > 65535 {
		p.stop(0)
		return nil, newInitError("Runtime.BridgeError", fmt.Sprintf("runtime.js announced port %d", ready.Port))
	}
	s := &bridgedDeno{
		denoProcess: p,
		client:      bridgeClient(ready.Port, results),
		channels:    channels,
		streams:     ready.Streams,
		maxStreams:  cfg.concurrency,
		concurrent:  cfg.concurrency > 0,
	}
	s.client.MaxIdle = cfg.concurrency
	return s, nil
}

// begin counts an invocation in: while any is, the process's exit is
// expected to be reported by whoever waits on it, not as a surprise.
func (s *bridgedDeno) begin() {
	s.mu.Lock()
	s.inFlight++
	s.expected.Store(true)
	s.mu.Unlock()
}

// end counts an invocation out.
func (s *bridgedDeno) end() {
	s.mu.Lock()
	s.inFlight--
	if s.inFlight == 0 && !s.exited() { // else it died during an invocation, which reports it
		s.expected.Store(false)
	}
	s.mu.Unlock()
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first. A large event goes on to Deno as it arrives
// from the Runtime API, and a large result is returned as a stream, for serve
// to pass on to the Runtime API as it arrives from Deno.
func (s *bridgedDeno) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	s.begin()
	streaming := false
	defer func() {
		if !streaming {
			s.end()
		}
	}()
	ctx, cancel := context.WithDeadline(ctx, inv.Deadline)
	handedOn := false // a streamed result's recycle ends ctx, once the bridge has answered
	defer func() {
		if !handedOn {
			cancel()
		}
	}()
	req := &httpc.Request{Method: "POST", Path: "/invoke", Body: inv.Payload, Stream: inv.Event, StreamChunks: true,
		Header: append(inv.Headers(), httpc.Field{Name: bridgeTokenHeader, Value: s.token})}

	// Whichever comes first: the bridge's answer, or the head of a streamed
	// result on the invocation's stream connection (the bridge answers once
	// the handler has settled).
	answers := make(chan answer, 2)
	exchanged := make(chan struct{})
	if s.streams {
		sc, forget, err := s.streamFor(inv)
		if err != nil {
			return outcome{err: err}
		}
		defer forget() // closes a connection that came and was not taken
		req.Header = append(req.Header, httpc.Field{Name: bridgeStreamTokenHeader, Value: sc.token})
		headed := make(chan struct{})
		go func() {
			defer close(headed)
			answers <- answer{head: s.awaitStreamHead(ctx, inv, sc), fromStream: true}
		}()
		defer func() {
			if !handedOn { // a stream that came too late is not taken
				cancel()
				<-headed
				<-exchanged
				for range len(answers) {
					if a := <-answers; a.head != nil && a.head.conn != nil {
						a.head.conn.close()
					} else if a.resp != nil {
						s.drop(a.resp)
					}
				}
			}
		}()
	}
	go func() {
		defer close(exchanged)
		resp, err := s.client.DoStream(ctx, req)
		if err == nil && resp.Stream != nil && (s.concurrent || resp.Stream.Size() < 0) {
			// Read whole before it is posted: a result stalled past its
			// deadline then fails its invocation alone, instead of cutting off
			// a post, which the Runtime API takes as the answer and after
			// which only the environment's end would do. A chunked answer,
			// which runtime.js never sends, is read whole too, within the
			// limit.
			if err = httpc.ReadStream(ctx, resp); err != nil {
				resp = nil
			}
		}
		answers <- answer{resp: resp, err: err}
	}()

	// An event cut off on its way in is the Runtime API's failure, not Deno's;
	// an answer too large to post is Deno's answer, not its death.
	errOf := func(a answer) error {
		if httpc.AsCut(a.err) != nil || refusedAnswer("", a.err) != nil {
			return nil
		}
		return a.err
	}
	a, fe := awaitAnswer(ctx, s.denoProcess, inv, answers, errOf, s.concurrent)
	// headless: the stream connection brought nothing, so the bridge answers.
	headless := false
	if fe == nil && a.fromStream && a.head == nil {
		headless = true
		a, fe = awaitAnswer(ctx, s.denoProcess, inv, answers, errOf, s.concurrent)
	}
	var head *streamHead
	switch {
	case fe != nil:
	case a.fromStream:
		head = a.head
	case a.err == nil && a.resp.Get(bridgeStreamHeader) != "":
		// The handler streamed and settled before its head was taken, or
		// runtime.js announced a stream that never came.
		s.drop(a.resp)
		if !s.streams || headless {
			a, fe = answer{}, newInitError("Runtime.BridgeError", fmt.Sprintf(
				"RequestId: %s Error: runtime.js announced a streamed result that its stream connection did not bring", inv.RequestID))
			break
		}
		if a, fe = awaitAnswer(ctx, s.denoProcess, inv, answers, errOf, s.concurrent); fe == nil && a.head == nil {
			fe = newInitError("Runtime.BridgeError", fmt.Sprintf(
				"RequestId: %s Error: runtime.js announced a streamed result that its stream connection did not bring", inv.RequestID))
		}
		head = a.head
	}
	if fe != nil {
		// The exchange may still be reading the event from the Runtime API's
		// connection, which serve reuses once invoke returns: end it first.
		cancel()
		<-exchanged
		if a.resp != nil { // taken as the deadline passed
			s.drop(a.resp)
		}
		select {
		case late := <-answers: // an answer awaitAnswer did not take
			if late.resp != nil {
				s.drop(late.resp)
			}
		default:
		}
		// Under concurrency the process serves on, unless it is gone.
		return outcome{err: fe, broken: s.exited() || !s.concurrent}
	}
	if head != nil {
		out := s.streamed(inv, head, answers, exchanged, cancel)
		streaming, handedOn = out.streamed != nil, out.streamed != nil
		return out
	}
	if cut := httpc.AsCut(a.err); cut != nil {
		return outcome{apiErr: fmt.Errorf("get next invocation: %w", cut)}
	}
	if fe := refusedAnswer(inv.RequestID, a.err); fe != nil {
		return outcome{err: fe}
	}
	resp := a.resp
	if resp.Stream != nil && resp.Status == statusOK && resp.Get(runtimeapi.HeaderErrorType) == "" {
		// serve reads the result after invoke returns, out of ctx's reach.
		if !inv.Deadline.IsZero() {
			resp.Stream.SetReadDeadline(inv.Deadline) // Finish clears it
		}
		streaming = true
		return outcome{
			result: resp.Stream,
			cutOff: func(err error) *functionError { return s.cutOff(inv, err) },
			recycle: func() {
				resp.Stream.Finish()
				s.end()
			},
		}
	}
	if err := httpc.ReadStream(ctx, resp); err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return outcome{err: shutdownError(inv.RequestID), broken: true}
		}
		return outcome{err: s.cutOff(inv, err), broken: true}
	}
	recycle := func() { s.client.Bodies.Give(resp.Body) }
	switch errorType := resp.Get(runtimeapi.HeaderErrorType); {
	case errorType != "":
		fatal := resp.Get(bridgeFatalHeader) != ""
		return outcome{err: decodeFunctionError(errorType, resp.Body), recycle: recycle, broken: fatal}
	case resp.Status == statusOK:
		return outcome{response: resp.Body, recycle: recycle}
	}
	return outcome{recycle: recycle, err: newInitError("Runtime.BridgeError",
		fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.RequestID, resp.Status, truncateBytes(resp.Body, 4096)))}
}

// drop ends an answer that will not be posted: its body's room goes to the
// others, and its connection is closed unless read to its end.
func (s *bridgedDeno) drop(resp *httpc.Response) {
	resp.Stream.Finish()
	s.client.Bodies.Give(resp.Body)
}

// bridgeClient is the HTTP client of runtime.js's bridge on port; large
// results are read into results, which outlives the process.
func bridgeClient(port int, results *httpc.Buffer) *httpc.Client {
	c := httpc.NewClient("127.0.0.1:" + strconv.Itoa(port))
	c.Bodies = results
	return c
}

// cutOff is the invocation's error when a result passed on as it arrives
// stopped short; the process is gone when it returns.
func (s *bridgedDeno) cutOff(inv *runtimeapi.Invocation, err error) *functionError {
	fe, _ := cutOffError(s.denoProcess, inv, false, err)
	return fe
}

// stop ends the Deno process and drops the bridge connections kept for it.
func (s *bridgedDeno) stop(grace time.Duration) {
	stopBridged(grace, s)
}

// stopBridged stops processes together, so that they share one grace period.
func stopBridged(grace time.Duration, ss ...*bridgedDeno) {
	ps := make([]*denoProcess, len(ss))
	for i, s := range ss {
		ps[i] = s.denoProcess
	}
	stopAll(grace, ps...)
	for _, s := range ss {
		s.client.CloseIdle()
		s.closeIdle()
	}
}
