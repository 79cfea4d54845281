package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// denoChild is runtime2's Deno process: it imports the function, then serves
// one invocation over its channel (the event in, the result out), and is
// discarded.
type denoChild struct {
	*denoProcess               // valid after started
	started      chan struct{} // closed once the process is started, or failed to
	ready        chan struct{} // closed when init is over
	readyErr     error         // why init failed, valid after ready
	results      *reusedBuffer // where large results are read, shared by every child
}

// eventFrame announces the event on the child's channel; the event's bytes
// follow it.
type eventFrame struct {
	Headers map[string]string `json:"headers"`
	Length  int               `json:"length"`
}

// resultFrame announces the result on the child's channel; the body's bytes
// follow it. failed: the body is an error body (errorType was sent, empty or
// not).
type resultFrame struct {
	Length    int64
	Failed    bool
	ErrorType string
}

// parseResultFrame reads a result frame as untrusted input: the function's
// code may have shaped it. The length must be a whole number of bytes no
// larger than a body may be.
func parseResultFrame(line []byte) (resultFrame, error) {
	var f struct {
		Length    *int64  `json:"length"`
		ErrorType *string `json:"errorType"`
	}
	if err := json.Unmarshal(line, &f); err != nil || f.Length == nil || *f.Length < 0 {
		return resultFrame{}, &bridgeError{fmt.Sprintf("a malformed result frame %q", truncateBytes(line, 64))}
	}
	if *f.Length > maxBodyBytes {
		return resultFrame{}, &tooLargeError{*f.Length}
	}
	rf := resultFrame{Length: *f.Length, Failed: f.ErrorType != nil}
	if rf.Failed {
		rf.ErrorType = cmp.Or(*f.ErrorType, "Error")
	}
	return rf, nil
}

// spawnChild starts a child in the background, which then imports the
// function; waitReady tells when that is done. Starting a 100 MB executable
// takes a while, so the caller does not wait for it.
func spawnChild(cfg config, env []string, channels *channelListener, results *reusedBuffer) *denoChild {
	c := &denoChild{started: make(chan struct{}), ready: make(chan struct{}), results: results}
	go func() {
		p, err := startDeno(cfg, env, channels,
			controlMessage{Bundle: cfg.bundlePath, Export: cfg.exportPath, Handler: cfg.handler}, false)
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
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
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

	// A result runtime.js should never have sent is the child's answer, not
	// its death.
	a, fe := awaitAnswer(ctx, c.denoProcess, inv, answers, func(a answer) error {
		if refusedAnswer("", a.err) != nil {
			return nil
		}
		return a.err
	})
	if fe != nil {
		return outcome{err: fe}
	}
	if fe := refusedAnswer(inv.requestID, a.err); fe != nil {
		return outcome{err: fe}
	}
	recycle := func() { c.results.give(a.body) }
	if a.frame.Failed {
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

// exchange writes the event frame and the event to the child's channel, and
// reads the result frame and the result.
func (c *denoChild) exchange(inv *invocation) (resultFrame, []byte, error) {
	fields := invocationHeaders(inv)
	headers := make(map[string]string, len(fields))
	for _, f := range fields {
		headers[f.name] = f.value
	}
	ch := c.channel.Load()
	frame, _ := json.Marshal(eventFrame{headers, len(inv.payload)})
	out := net.Buffers{append(frame, '\n'), inv.payload}
	if _, err := out.WriteTo(ch.conn); err != nil {
		return resultFrame{}, nil, fmt.Errorf("send event: %w", err)
	}
	line, err := ch.readLine()
	if errors.Is(err, errLineTooLong) {
		return resultFrame{}, nil, &bridgeError{"a result frame over " + strconv.Itoa(maxLineBytes) + " bytes"}
	}
	if err != nil {
		return resultFrame{}, nil, fmt.Errorf("read result: %w", err)
	}
	rf, err := parseResultFrame(line)
	if err != nil {
		return resultFrame{}, nil, err
	}
	body := c.results.take(int(rf.Length))
	if _, err := io.ReadFull(ch.r, body); err != nil {
		return resultFrame{}, nil, fmt.Errorf("read result: %w", err)
	}
	return rf, body, nil
}
