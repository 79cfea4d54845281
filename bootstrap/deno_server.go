package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// bridgeTokenHeader carries the secret that runtime.js demands on every bridge
// request. The token travels to Deno on its stdin, never in argv or the
// environment, so no other local process can drive the bridge.
const bridgeTokenHeader = "X-Bridge-Token"

// denoServer is runtime1's Deno process: it imports the function once and then
// serves every invocation over a loopback HTTP bridge.
type denoServer struct {
	*denoProcess
	url    string
	token  string
	client *http.Client
}

// startDenoServer starts Deno, hands it the function to import and waits until
// it reports the bridge ready. A *functionError means the function cannot be
// initialised; it is meant for /runtime/init/error.
func startDenoServer(ctx context.Context, cfg config, env []string) (*denoServer, error) {
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
		url:         "http://127.0.0.1:" + strconv.Itoa(ready.Port) + "/invoke",
		token:       token,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever HTTP_PROXY says
			MaxIdleConnsPerHost: 1,
			DisableCompression:  true,
		}},
	}, nil
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first.
func (s *denoServer) invoke(ctx context.Context, inv *invocation) outcome {
	s.expected.Store(true)
	defer func() {
		select {
		case <-s.done: // died during this invocation, which reports it
		default:
			s.expected.Store(false)
		}
	}()
	if !inv.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.deadline)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(inv.payload))
	if err != nil {
		return outcome{err: newInitError("Runtime.BridgeError", err.Error()), broken: true}
	}
	setInvocationHeaders(req.Header, inv)
	req.Header.Set(bridgeTokenHeader, s.token)

	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := s.client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp, body, err}
	}()

	a, fe := awaitAnswer(ctx, s.denoProcess, inv, answers, func(a answer) error { return a.err })
	switch {
	case fe != nil:
		return outcome{err: fe, broken: true}
	case a.resp.Header.Get(headerErrorType) != "":
		return outcome{err: decodeFunctionError(a.resp.Header.Get(headerErrorType), a.body)}
	case a.resp.StatusCode == http.StatusOK:
		return outcome{response: a.body}
	}
	return outcome{err: newInitError("Runtime.BridgeError",
		fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.requestID, a.resp.StatusCode, a.body))}
}
