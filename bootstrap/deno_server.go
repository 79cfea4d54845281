package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// bridgeTokenHeader carries the secret that runtime.js demands on every bridge
// request: the process's channel token, which travels to Deno on its stdin,
// never in argv or the environment, so no other local process can drive the
// bridge.
const bridgeTokenHeader = "X-Bridge-Token"

// bridgeFatalHeader on an answer says an error escaped the handler: the
// process must not serve again, and is replaced.
const bridgeFatalHeader = "X-Bridge-Fatal"

// denoServer is runtime1's Deno process: it imports the function once and then
// serves every invocation over a loopback HTTP bridge.
type denoServer struct {
	*denoProcess
	client *httpClient
}

// startDenoServer starts Deno, hands it the function to import and waits until
// it reports the bridge ready. A *functionError means the function cannot be
// initialised; it is meant for /runtime/init/error.
// Large results are read into results, which outlives the process.
func startDenoServer(ctx context.Context, cfg config, env []string, channels *channelListener, results *reusedBuffer) (*denoServer, error) {
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
	return &denoServer{
		denoProcess: p,
		client:      &httpClient{addr: "127.0.0.1:" + strconv.Itoa(ready.Port), bodies: results},
	}, nil
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first. A large event goes on to Deno as it arrives
// from the Runtime API, and a large result is returned as a stream, for serve
// to pass on to the Runtime API as it arrives from Deno.
func (s *denoServer) invoke(ctx context.Context, inv *invocation) outcome {
	s.expected.Store(true)
	streaming := false
	defer func() {
		if !streaming && !s.exited() { // else it died during this invocation, which reports it
			s.expected.Store(false)
		}
	}()
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
	req := &httpRequest{method: "POST", path: "/invoke", body: inv.payload, stream: inv.event,
		header: append(invocationHeaders(inv), headerField{bridgeTokenHeader, s.token})}

	type answer struct {
		resp *httpResponse
		err  error
	}
	answers := make(chan answer, 1)
	exchanged := make(chan struct{})
	go func() {
		defer close(exchanged)
		resp, err := s.client.doStream(ctx, req)
		answers <- answer{resp, err}
	}()

	// An event cut off on its way in is the Runtime API's failure, not Deno's;
	// an answer too large to post is Deno's answer, not its death.
	a, fe := awaitAnswer(ctx, s.denoProcess, inv, answers, func(a answer) error {
		if asCut(a.err) != nil || refusedAnswer("", a.err) != nil {
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
			a.resp.stream.finish()
		}
		select {
		case late := <-answers: // an answer awaitAnswer did not take
			if late.resp != nil {
				late.resp.stream.finish()
			}
		default:
		}
		return outcome{err: fe, broken: true}
	}
	if cut := asCut(a.err); cut != nil {
		return outcome{apiErr: fmt.Errorf("get next invocation: %w", cut)}
	}
	if fe := refusedAnswer(inv.requestID, a.err); fe != nil {
		return outcome{err: fe}
	}
	resp := a.resp
	if resp.stream != nil && resp.status == statusOK && resp.get(headerErrorType) == "" {
		// serve reads the result after invoke returns, out of ctx's reach.
		if !inv.deadline.IsZero() {
			resp.stream.pc.conn.SetReadDeadline(inv.deadline) // finish clears it
		}
		streaming = true
		return outcome{
			result: resp.stream,
			cutOff: func(err error) *functionError { return s.cutOff(inv, err) },
			recycle: func() {
				resp.stream.finish()
				if !s.exited() {
					s.expected.Store(false)
				}
			},
		}
	}
	if err := readStream(ctx, resp); err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return outcome{err: shutdownError(inv.requestID), broken: true}
		}
		return outcome{err: s.cutOff(inv, err), broken: true}
	}
	recycle := func() { s.client.bodies.give(resp.body) }
	switch errorType := resp.get(headerErrorType); {
	case errorType != "":
		fatal := resp.get(bridgeFatalHeader) != ""
		return outcome{err: decodeFunctionError(errorType, resp.body), recycle: recycle, broken: fatal}
	case resp.status == statusOK:
		return outcome{response: resp.body, recycle: recycle}
	}
	return outcome{err: newInitError("Runtime.BridgeError",
		fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.requestID, resp.status, truncateBytes(resp.body, 4096)))}
}

// cutOff is the invocation's error when Deno's answer stopped short: the
// deadline passed while it was still being written, or Deno died writing it.
// Either way the process is gone when it returns.
func (s *denoServer) cutOff(inv *invocation, err error) *functionError {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.denoProcess.stop(0)
		return timeoutError(inv)
	}
	select {
	case <-s.done:
	case <-time.After(exitWait):
		s.denoProcess.stop(0)
	}
	return exitError(inv.requestID, s.state)
}

// stop ends the Deno process and drops the bridge connection kept for it.
func (s *denoServer) stop(grace time.Duration) {
	s.denoProcess.stop(grace)
	s.client.closeIdle()
}
