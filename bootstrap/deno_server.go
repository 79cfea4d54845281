package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// bridgeTokenHeader carries the secret that runtime.js demands on every bridge
// request. The token travels to Deno on its stdin, never in argv or the
// environment, so no other local process can drive the bridge.
const bridgeTokenHeader = "X-Bridge-Token"

// denoServer is runtime1's Deno process: it imports the function once and then
// serves every invocation over a loopback HTTP bridge.
type denoServer struct {
	*denoProcess
	token  string
	client *httpClient
}

// startDenoServer starts Deno, hands it the function to import and waits until
// it reports the bridge ready. A *functionError means the function cannot be
// initialised; it is meant for /runtime/init/error.
// Large results are read into results, which outlives the process.
func startDenoServer(ctx context.Context, cfg config, env []string, results *reusedBuffer) (*denoServer, error) {
	tokenBytes := make([]byte, 32)
	if _, err := rand.Read(tokenBytes); err != nil {
		return nil, fmt.Errorf("bridge token: %w", err)
	}
	token := hex.EncodeToString(tokenBytes)
	p, err := startDeno(cfg, env, controlMessage{Token: token, Bundle: cfg.bundlePath, Export: cfg.exportPath, Handler: cfg.handler})
	if err != nil {
		return nil, err
	}
	ready, err := p.awaitReady(ctx)
	if err != nil {
		return nil, err
	}
	p.controlFile.Close() // runtime1 says nothing more on it either
	return &denoServer{
		denoProcess: p,
		token:       token,
		client:      &httpClient{addr: "127.0.0.1:" + strconv.Itoa(ready.Port), bodies: results},
	}, nil
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first.
func (s *denoServer) invoke(ctx context.Context, inv *invocation) outcome {
	s.expected.Store(true)
	defer func() {
		if !s.exited() { // else it died during this invocation, which reports it
			s.expected.Store(false)
		}
	}()
	if !inv.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.deadline)
		defer cancel()
	}
	req := &httpRequest{method: "POST", path: "/invoke", body: inv.payload,
		header: append(invocationHeaders(inv), headerField{bridgeTokenHeader, s.token})}

	type answer struct {
		resp *httpResponse
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := s.client.do(ctx, req)
		answers <- answer{resp, err}
	}()

	a, fe := awaitAnswer(ctx, s.denoProcess, inv, answers, func(a answer) error { return a.err })
	if fe != nil {
		return outcome{err: fe, broken: true}
	}
	recycle := func() { s.client.bodies.give(a.resp.body) }
	switch errorType := a.resp.get(headerErrorType); {
	case errorType != "":
		return outcome{err: decodeFunctionError(errorType, a.resp.body), recycle: recycle}
	case a.resp.status == statusOK:
		return outcome{response: a.resp.body, recycle: recycle}
	}
	return outcome{err: newInitError("Runtime.BridgeError",
		fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.requestID, a.resp.status, truncateBytes(a.resp.body, 4096)))}
}

// stop ends the Deno process and drops the bridge connection kept for it.
func (s *denoServer) stop(grace time.Duration) {
	s.denoProcess.stop(grace)
	s.client.closeIdle()
}
