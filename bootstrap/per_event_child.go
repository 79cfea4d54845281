package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
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
	results      *httpc.Buffer // where large results are read, shared by every child
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
	// Stream: the handler streams its result, as frames (streamed.go) that
	// follow instead of a body; ContentType is the one it set.
	Stream      bool
	ContentType string
}

// parseResultFrame reads a result frame as untrusted input: the function's
// code may have shaped it. The length must be a whole number of bytes no
// larger than a body may be.
func parseResultFrame(line []byte) (resultFrame, error) {
	var f struct {
		Length      *int64  `json:"length"`
		ErrorType   *string `json:"errorType"`
		Stream      bool    `json:"stream"`
		ContentType string  `json:"contentType"`
	}
	if err := json.Unmarshal(line, &f); err != nil {
		return resultFrame{}, &bridgeError{fmt.Sprintf("a malformed result frame %q", truncateBytes(line, 64))}
	}
	if f.Stream && f.Length == nil && f.ErrorType == nil {
		return resultFrame{Stream: true, ContentType: f.ContentType}, nil
	}
	if f.Length == nil || *f.Length < 0 {
		return resultFrame{}, &bridgeError{fmt.Sprintf("a malformed result frame %q", truncateBytes(line, 64))}
	}
	if *f.Length > httpc.MaxBodyBytes {
		return resultFrame{}, &httpc.TooLargeError{Size: *f.Length}
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
func spawnChild(cfg config, env []string, channels *channelListener, results *httpc.Buffer) *denoChild {
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

// run hands the child an event and waits for its result, its death, or the
// deadline, whichever comes first. A child that overran the deadline is killed.
func (c *denoChild) run(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	ctx, cancel := context.WithDeadline(ctx, inv.Deadline)
	defer cancel()
	type answer struct {
		frame resultFrame
		body  []byte
		err   error
	}
	frames := make(chan answer, 1)  // the result frame, or why none came
	answers := make(chan answer, 1) // then the body that follows it
	exchanged := make(chan struct{})
	go func() {
		defer close(exchanged)
		var a answer
		a.frame, a.err = c.exchange(inv)
		frames <- a
		if a.err == nil && !a.frame.Stream {
			a.body, a.err = c.readResult(ctx, a.frame.Length)
			answers <- a
		}
	}()

	// A result runtime.js should never have sent is the child's answer, not
	// its death.
	a, fe := awaitAnswer(ctx, c.denoProcess, inv, frames, func(a answer) error {
		if refusedAnswer("", a.err) != nil {
			return nil
		}
		return a.err
	}, false)
	if fe == nil && a.err == nil && !a.frame.Stream {
		// The body follows its frame, once the results held leave room for
		// it. Meanwhile the child may exit, its body sent and waiting in the
		// channel's buffers: only a body cut off shows the child's death.
		var got bool
		a, got = receive(ctx, answers, nil)
		err := a.err
		if refusedAnswer("", err) != nil {
			err = nil // the child's answer, not its death
		}
		fe = answerError(ctx, c.denoProcess, inv, got, err, false)
	}
	if fe != nil {
		// A result read as the deadline passed, or still being read, is
		// dropped: its room goes to the others.
		c.results.Give(a.body)
		go func() {
			<-exchanged
			select {
			case late := <-answers:
				c.results.Give(late.body)
			default:
			}
		}()
		return outcome{err: fe}
	}
	if fe := refusedAnswer(inv.RequestID, a.err); fe != nil {
		return outcome{err: fe}
	}
	if a.frame.Stream {
		ch := c.channel.Load()
		if !inv.Deadline.IsZero() {
			ch.conn.SetReadDeadline(inv.Deadline)
		}
		return outcome{streamed: newStreamed(a.frame.ContentType, ch.r, ch.conn.SetReadDeadline, inv.RequestID, func(err error) (*functionError, bool) {
			return cutOffError(c.denoProcess, inv, false, err)
		})}
	}
	recycle := func() { c.results.Give(a.body) }
	if a.frame.Failed {
		return outcome{err: decodeFunctionError(a.frame.ErrorType, a.body), recycle: recycle}
	}
	return outcome{response: a.body, recycle: recycle}
}

// exchange writes the event frame and the event to the child's channel, and
// reads the result frame.
func (c *denoChild) exchange(inv *runtimeapi.Invocation) (resultFrame, error) {
	fields := inv.Headers()
	headers := make(map[string]string, len(fields))
	for _, f := range fields {
		headers[f.Name] = f.Value
	}
	ch := c.channel.Load()
	frame, _ := json.Marshal(eventFrame{headers, len(inv.Payload)})
	out := net.Buffers{append(frame, '\n'), inv.Payload}
	if _, err := out.WriteTo(ch.conn); err != nil {
		return resultFrame{}, fmt.Errorf("send event: %w", err)
	}
	line, err := ch.readLine()
	if errors.Is(err, errLineTooLong) {
		return resultFrame{}, &bridgeError{"a result frame over " + strconv.Itoa(maxLineBytes) + " bytes"}
	}
	if err != nil {
		return resultFrame{}, fmt.Errorf("read result: %w", err)
	}
	return parseResultFrame(line)
}

// readResult reads the n bytes of the result that follow its frame, once the
// results held leave room for them (ctx bounds that wait).
func (c *denoChild) readResult(ctx context.Context, n int64) ([]byte, error) {
	ch := c.channel.Load()
	body, err := c.results.Take(ctx, int(n), ch.conn)
	if err != nil {
		return nil, fmt.Errorf("wait for room for the result: %w", err)
	}
	if _, err := io.ReadFull(ch.r, body); err != nil {
		c.results.Give(body)
		if held := c.results.HeldBack(ctx, err, n); held != err {
			return nil, held
		}
		return nil, fmt.Errorf("read result: %w", err)
	}
	return body, nil
}
