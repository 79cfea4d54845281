package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
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
	p.stdin.Close() // nothing more to say: the function's reads of stdin see EOF
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

// outcome is what one invocation produced.
type outcome struct {
	response []byte         // the result, when err is nil
	err      *functionError // the failure to post to /error
	broken   bool           // the Deno process is gone and must be replaced
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
	started := time.Now()
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
		body, err := readBody(resp)
		resp.Body.Close()
		answers <- answer{resp, body, err}
	}()

	select {
	case a := <-answers:
		switch {
		case a.err == nil && a.resp.Header.Get(headerErrorType) != "":
			return outcome{err: decodeFunctionError(a.resp.Header.Get(headerErrorType), a.body)}
		case a.err == nil && a.resp.StatusCode == http.StatusOK:
			return outcome{response: a.body}
		case a.err == nil:
			return outcome{err: newInitError("Runtime.BridgeError",
				fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.requestID, a.resp.StatusCode, a.body))}
		case errors.Is(a.err, context.DeadlineExceeded):
			s.stop(0) // hung: kill it, and all it started, before reporting
			return outcome{err: timeoutError(inv.requestID, inv.deadline.Sub(started).Seconds()), broken: true}
		case ctx.Err() != nil:
			return outcome{err: newInitError("Runtime.Shutdown", "RequestId: "+inv.requestID+" Error: runtime shutting down"), broken: true}
		}
		// The connection failed: Deno is most likely exiting. Give it a moment
		// to say how, then make sure it is gone.
		select {
		case <-s.done:
		case <-time.After(exitWait):
			s.stop(0)
		}
		return outcome{err: exitError(inv.requestID, s.state), broken: true}
	case <-s.done:
		return outcome{err: exitError(inv.requestID, s.state), broken: true}
	}
}

// setInvocationHeaders forwards the Runtime API's per-invocation headers to
// runtime.js, which builds the handler's context from them.
func setInvocationHeaders(h http.Header, inv *invocation) {
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(headerRequestID, inv.requestID)
	set(headerFunctionARN, inv.functionARN)
	set(headerTraceID, inv.traceID)
	set(headerClientContext, inv.clientContext)
	set(headerCognitoIdentity, inv.cognitoIdentity)
	set(headerTenantID, inv.tenantID)
	if !inv.deadline.IsZero() {
		h.Set(headerDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	}
	h.Set("Content-Type", "application/json")
}
