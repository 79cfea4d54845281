package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// denoChild is runtime2's Deno process: it imports the function, then serves
// one invocation, the event on one FIFO and the result on another, and is
// discarded.
type denoChild struct {
	*denoProcess               // valid after started
	started      chan struct{} // closed once the process is started, or failed to
	ready        chan struct{} // closed when init is over
	readyErr     error         // why init failed, valid after ready
	results      *reusedBuffer // where large results are read, shared by every child
}

// eventFrame announces the event on the child's events FIFO; the event's bytes
// follow it.
type eventFrame struct {
	Headers map[string]string `json:"headers"`
	Length  int               `json:"length"`
}

// resultFrame announces the result on the control FIFO; the body's bytes
// follow it.
type resultFrame struct {
	Length    int    `json:"length"`
	ErrorType string `json:"errorType"`
}

// spawnChild starts a child in the background, which then imports the
// function; waitReady tells when that is done. Starting a 100 MB executable
// takes a while, so the caller does not wait for it.
func spawnChild(cfg config, env []string, results *reusedBuffer) *denoChild {
	c := &denoChild{started: make(chan struct{}), ready: make(chan struct{}), results: results}
	go func() {
		p, err := startDeno(cfg, env, controlMessage{Bundle: cfg.bundlePath, Export: cfg.exportPath, Handler: cfg.handler})
		c.denoProcess = p
		close(c.started)
		if err == nil {
			_, err = p.awaitReady(context.Background())
		}
		c.readyErr = err
		close(c.ready)
	}()
	return c
}

// dead tells whether the child failed to start or has exited.
func (c *denoChild) dead() bool {
	select {
	case <-c.started:
		return c.denoProcess == nil || c.exited()
	default:
		return false
	}
}

// waitReady waits until the child has imported the function.
func (c *denoChild) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return c.readyErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discard kills the child and everything it started.
func (c *denoChild) discard() {
	<-c.started
	if c.denoProcess != nil {
		c.stop(0)
	}
}

// outcome is what one invocation produced.
type outcome struct {
	response []byte         // the result, when err is nil
	err      *functionError // the failure to post to /error
	broken   bool           // the Deno process is gone (or used up) and must be replaced
	// recycle, set when Deno answered (so nothing still reads the event or
	// writes the result), gives the result's buffer back once it is posted.
	recycle func()
	// result, instead of response: a large result still coming from Deno
	// (runtime1), posted as it arrives. If it stops short, cutOff gives the
	// invocation's error, and the process is gone.
	result *bodyStream
	cutOff func(error) *functionError
	// apiErr: the Runtime API failed while handing out the event; serve ends.
	apiErr error
}

// run hands the child an event and waits for its result, its death, or the
// deadline, whichever comes first. A child that overran the deadline is killed.
func (c *denoChild) run(ctx context.Context, inv *invocation) outcome {
	if !inv.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.deadline)
		defer cancel()
	}
	type answer struct {
		frame resultFrame
		body  []byte
		err   error
	}
	answers := make(chan answer, 1)
	go func() {
		var a answer
		a.frame, a.body, a.err = c.exchange(inv)
		answers <- a
	}()

	a, fe := awaitAnswer(ctx, c.denoProcess, inv, answers, func(a answer) error { return a.err })
	if fe != nil {
		return outcome{err: fe}
	}
	recycle := func() { c.results.give(a.body) }
	if a.frame.ErrorType != "" {
		return outcome{err: decodeFunctionError(a.frame.ErrorType, a.body), recycle: recycle}
	}
	return outcome{response: a.body, recycle: recycle}
}

// invocationHeaders are the Runtime API's per-invocation headers, passed on
// to runtime.js, which builds the handler's context from them.
func invocationHeaders(inv *invocation) []headerField {
	h := make([]headerField, 0, 8)
	add := func(k, v string) {
		if v != "" {
			h = append(h, headerField{k, v})
		}
	}
	add(headerRequestID, inv.requestID)
	add(headerFunctionARN, inv.functionARN)
	add(headerTraceID, inv.traceID)
	add(headerClientContext, inv.clientContext)
	add(headerCognitoIdentity, inv.cognitoIdentity)
	add(headerTenantID, inv.tenantID)
	if !inv.deadline.IsZero() {
		add(headerDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	}
	return append(h, headerField{"Content-Type", "application/json"})
}

// exchange writes the event frame to the events FIFO and reads the result frame
// from the control FIFO.
func (c *denoChild) exchange(inv *invocation) (resultFrame, []byte, error) {
	fields := invocationHeaders(inv)
	headers := make(map[string]string, len(fields))
	for _, f := range fields {
		headers[f.name] = f.value
	}
	frame, _ := json.Marshal(eventFrame{headers, len(inv.payload)})
	if _, err := c.events.Write(append(frame, '\n')); err != nil {
		return resultFrame{}, nil, fmt.Errorf("send event: %w", err)
	}
	if _, err := c.events.Write(inv.payload); err != nil {
		return resultFrame{}, nil, fmt.Errorf("send event: %w", err)
	}
	line, err := c.control.ReadBytes('\n')
	if err != nil {
		return resultFrame{}, nil, fmt.Errorf("read result: %w", err)
	}
	var rf resultFrame
	if err := json.Unmarshal(line, &rf); err != nil || rf.Length < 0 {
		return resultFrame{}, nil, fmt.Errorf("read result: bad frame %q", line)
	}
	body := c.results.take(rf.Length)
	if _, err := io.ReadFull(c.control, body); err != nil {
		return resultFrame{}, nil, fmt.Errorf("read result: %w", err)
	}
	return rf, body, nil
}
