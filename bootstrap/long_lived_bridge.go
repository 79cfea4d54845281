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
	maxStreams int           // kept idle at most: its share of the invocations at once
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
		maxStreams:  (cfg.concurrency + max(cfg.workers, 1) - 1) / max(cfg.workers, 1),
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
	ex, fe := s.exchange(ctx, inv)
	if fe != nil {
		cancel()
		return outcome{err: fe}
	}
	handedOn := false // a streamed result's recycle ends the exchange
	defer func() {
		if !handedOn {
			// The exchange may still be reading the event from the Runtime
			// API's connection, which serve reuses once invoke returns: end it
			// first.
			cancel()
			ex.release()
		}
	}()
	a, fe := ex.await(ctx)
	if fe != nil {
		// Under concurrency the process serves on, unless it is gone.
		return outcome{err: fe, broken: s.exited() || !s.concurrent}
	}
	if a.head != nil {
		out := s.streamed(inv, a.head, ex, cancel)
		streaming, handedOn = true, true
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

// bridgeExchange is one invocation's exchange with runtime.js: the bridge
// request, and, for a handler that streams, the wait for the head of its
// stream (long_lived_streams.go), whichever comes first.
type bridgeExchange struct {
	s         *bridgedDeno
	inv       *runtimeapi.Invocation
	answers   chan answer   // the bridge's answer, and what came on the stream connection
	exchanged chan struct{} // closed once the bridge request is over
	sent      chan struct{} // closed once the event has gone to Deno whole
	headed    chan struct{} // closed once the wait for a head is over
	forget    func()        // withdraws a stream token not used
	// answered: the bridge's answer, announcing the stream, was taken
	// before the stream's head.
	answered bool
}

// answer is one of what may come for an invocation: the bridge's answer (resp,
// or the exchange's failure), or, fromStream, what came on its stream
// connection (head, nil when no stream began there).
type answer struct {
	resp       *httpc.Response
	err        error
	head       *streamHead
	fromStream bool
}

// exchange sends the event to runtime.js, and for a handler that streams
// begins the wait for its stream's head.
func (s *bridgedDeno) exchange(ctx context.Context, inv *runtimeapi.Invocation) (*bridgeExchange, *functionError) {
	ex := &bridgeExchange{s: s, inv: inv, answers: make(chan answer, 2),
		exchanged: make(chan struct{}), sent: make(chan struct{}), headed: make(chan struct{}), forget: func() {}}
	req := &httpc.Request{Method: "POST", Path: "/invoke", Body: inv.Payload, Stream: inv.Event, StreamChunks: true,
		Header: append(inv.Headers(), httpc.Field{Name: bridgeTokenHeader, Value: s.token})}
	if s.streams {
		req.Sent = func() { close(ex.sent) } // awaited only once a stream's head has come
		// Made before a kept connection is taken, which a failure would strand.
		nonce, err := secret()
		if err != nil {
			return nil, newInitError("Runtime.BridgeError", fmt.Sprintf("RequestId: %s Error: stream nonce: %v", inv.RequestID, err))
		}
		sc, forget, fe := s.streamFor(inv)
		if fe != nil {
			return nil, fe
		}
		ex.forget = forget
		req.Header = append(req.Header, httpc.Field{Name: bridgeStreamTokenHeader, Value: sc.token},
			httpc.Field{Name: bridgeStreamNonceHeader, Value: nonce})
		go func() {
			defer close(ex.headed)
			ex.answers <- answer{head: s.awaitStreamHead(ctx, inv, sc, nonce), fromStream: true}
		}()
	} else {
		close(ex.headed)
	}
	go func() {
		defer close(ex.exchanged)
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
		ex.answers <- answer{resp: resp, err: err}
	}()
	return ex, nil
}

// await waits for the invocation's answer: the bridge's, or the head of its
// stream, once the event has gone to Deno whole. Whatever else comes, the
// process's exit, the deadline or shutdown, is the invocation's error.
func (ex *bridgeExchange) await(ctx context.Context) (answer, *functionError) {
	s, inv := ex.s, ex.inv
	// An event cut off on its way in is the Runtime API's failure, not Deno's;
	// an answer too large to post is Deno's answer, not its death.
	next := func() (answer, *functionError) {
		return awaitAnswer(ctx, s.denoProcess, inv, ex.answers, func(a answer) error {
			if httpc.AsCut(a.err) != nil || refusedAnswer("", a.err) != nil {
				return nil
			}
			return a.err
		}, s.concurrent)
	}
	announced := func(a answer) bool { return !a.fromStream && streamAnswer(a) }
	unbrought := func() *functionError {
		return newInitError("Runtime.BridgeError", fmt.Sprintf(
			"RequestId: %s Error: runtime.js announced a streamed result that its stream connection did not bring", inv.RequestID))
	}
	a, fe := next()
	switch {
	case fe == nil && a.fromStream && a.head == nil: // no stream: the bridge answers
		if a, fe = next(); fe == nil && announced(a) {
			ex.give(a)
			a, fe = answer{}, unbrought()
		}
	case fe == nil && announced(a): // the handler settled before its head was taken
		ex.give(a)
		a, fe = answer{}, unbrought()
		if s.streams {
			ex.answered = true
			if a, fe = next(); fe == nil && a.head == nil {
				fe = unbrought()
			}
		}
	}
	if fe == nil && a.head != nil {
		if a.head.fail != nil {
			fe = a.head.fail
		} else {
			// runtime.js reads the event whole before the handler runs; a
			// head before that is the function's doing, and serve must not
			// reuse the connection the event comes on until it is through.
			fe = ex.awaitSent(ctx)
		}
	}
	if fe != nil {
		ex.give(a)
		return answer{}, fe
	}
	return a, nil
}

// streamAnswer tells whether a is the bridge's answer for a result streamed
// well on its stream connection.
func streamAnswer(a answer) bool {
	return a.err == nil && a.resp != nil && a.resp.Status == statusOK && a.resp.Get(bridgeStreamHeader) != ""
}

// awaitSent waits until the event has gone to Deno whole, or the exchange is
// over.
func (ex *bridgeExchange) awaitSent(ctx context.Context) *functionError {
	select {
	case <-ex.sent:
	case <-ex.exchanged:
	case <-ctx.Done():
		return answerError(ctx, ex.s.denoProcess, ex.inv, true, nil, ex.s.concurrent)
	case <-ex.s.done:
		return answerError(ctx, ex.s.denoProcess, ex.inv, false, nil, ex.s.concurrent)
	}
	return nil
}

// give releases an answer not used: its body's room, its stream connection.
func (ex *bridgeExchange) give(a answer) {
	if a.resp != nil {
		ex.s.drop(a.resp)
	}
	if a.head != nil && a.head.conn != nil {
		a.head.conn.close()
	}
}

// release, once ctx has ended, waits for the exchange and the wait for a head
// to be over, and releases whatever came that was not used.
func (ex *bridgeExchange) release() {
	<-ex.exchanged
	<-ex.headed
	for range len(ex.answers) {
		ex.give(<-ex.answers)
	}
	ex.forget()
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
