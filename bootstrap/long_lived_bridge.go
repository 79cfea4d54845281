package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"os"
	"strconv"
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
	return &bridgedDeno{
		denoProcess: p,
		client:      bridgeClient(ready.Port, results),
	}, nil
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first. A large event goes on to Deno as it arrives
// from the Runtime API, and a large result is returned as a stream, for serve
// to pass on to the Runtime API as it arrives from Deno.
func (s *bridgedDeno) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	s.expected.Store(true)
	streaming := false
	defer func() {
		if !streaming && !s.exited() { // else it died during this invocation, which reports it
			s.expected.Store(false)
		}
	}()
	ctx, cancel := context.WithDeadline(ctx, inv.Deadline)
	defer cancel()
	req := &httpc.Request{Method: "POST", Path: "/invoke", Body: inv.Payload, Stream: inv.Event,
		Header: append(inv.Headers(), httpc.Field{Name: bridgeTokenHeader, Value: s.token})}

	type answer struct {
		resp *httpc.Response
		err  error
	}
	answers := make(chan answer, 1)
	exchanged := make(chan struct{})
	go func() {
		defer close(exchanged)
		resp, err := s.client.DoStream(ctx, req)
		answers <- answer{resp, err}
	}()

	// An event cut off on its way in is the Runtime API's failure, not Deno's;
	// an answer too large to post is Deno's answer, not its death.
	a, fe := awaitAnswer(ctx, s.denoProcess, inv, answers, func(a answer) error {
		if httpc.AsCut(a.err) != nil || refusedAnswer("", a.err) != nil {
			return nil
		}
		return a.err
	})
	if fe != nil {
		// The exchange may still be reading the event from the Runtime API's
		// connection, which serve reuses once invoke returns: end it first.
		cancel()
		<-exchanged
		if a.resp != nil { // taken as the deadline passed
			a.resp.Stream.Finish()
		}
		select {
		case late := <-answers: // an answer awaitAnswer did not take
			if late.resp != nil {
				late.resp.Stream.Finish()
			}
		default:
		}
		return outcome{err: fe, broken: true}
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
				if !s.exited() {
					s.expected.Store(false)
				}
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
	return outcome{err: newInitError("Runtime.BridgeError",
		fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.RequestID, resp.Status, truncateBytes(resp.Body, 4096)))}
}

// bridgeClient is the HTTP client of runtime.js's bridge on port; large
// results are read into results, which outlives the process.
func bridgeClient(port int, results *httpc.Buffer) *httpc.Client {
	c := httpc.NewClient("127.0.0.1:" + strconv.Itoa(port))
	c.Bodies = results
	return c
}

// cutOff is the invocation's error when Deno's answer stopped short: the
// deadline passed while it was still being written, or Deno died writing it.
// Either way the process is gone when it returns.
func (s *bridgedDeno) cutOff(inv *runtimeapi.Invocation, err error) *functionError {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.denoProcess.stop(0)
		return timeoutError(inv)
	}
	select {
	case <-s.done:
	case <-time.After(exitWait):
		s.denoProcess.stop(0)
	}
	return exitError(inv.RequestID, s.state)
}

// stop ends the Deno process and drops the bridge connection kept for it.
func (s *bridgedDeno) stop(grace time.Duration) {
	s.denoProcess.stop(grace)
	s.client.CloseIdle()
}
