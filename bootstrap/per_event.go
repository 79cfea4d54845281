package main

import (
	"context"
	"errors"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// perEvent gives every invocation a Deno process that has never served
// another. To hide Deno's start-up, the next process is started as soon as the
// current one receives its event, so it has imported the function by the time
// the next event arrives. A used process is killed once its result is posted.
type perEvent struct {
	cfg      config
	env      []string
	channels *channelListener
	spare    *denoChild    // starting, importing or ready, for the next event
	used     *denoChild    // served its event; discarded by reset
	results  *httpc.Buffer // large results, read into one buffer from one child to the next
}

// startPerEvent starts the first process and waits until it has imported the
// function: the init phase. That process serves the first invocation.
func startPerEvent(ctx context.Context, cfg config, env []string, channels *channelListener, results *httpc.Buffer) (*perEvent, error) {
	r := newPerEvent(cfg, env, channels, results)
	if err := r.spare.waitReady(ctx); err != nil {
		r.spare.discard()
		return nil, err
	}
	return r, nil
}

// newPerEvent starts the process for a loop's first event, and leaves that
// event to wait for it: under Managed Instances, every loop but the first.
func newPerEvent(cfg config, env []string, channels *channelListener, results *httpc.Buffer) *perEvent {
	r := &perEvent{cfg: cfg, env: env, channels: channels, results: results}
	r.spare = r.spawn()
	return r
}

func (r *perEvent) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	child := r.spare
	if child.dead() {
		child.discard()
		child = r.spawn() // the spare died while waiting
	}
	r.spare = r.spawn()
	r.used = child
	// The function's import may never end: the event's deadline bounds it.
	readyCtx, cancel := context.WithDeadline(ctx, inv.Deadline)
	err := child.waitReady(readyCtx)
	if diedUnheard(err) {
		// It died before it said a word, so not of the function's init
		// failing, which runtime.js reports: something killed it as it
		// started (the memory running out, a flood on the channel port). The
		// spare started meanwhile takes the event, once.
		child.discard()
		child, r.spare = r.spare, r.spawn()
		r.used = child
		err = child.waitReady(readyCtx)
	}
	cancel()
	if err != nil {
		return notStarted(ctx, inv, err)
	}
	out := child.run(ctx, inv)
	out.broken = true // used up
	return out
}

// diedUnheard tells whether a child's init ended in its death before
// runtime.js reported anything (awaitReady's exit error).
func diedUnheard(err error) bool {
	var fe *functionError
	return errors.As(err, &fe) && fe.Type == exitErrorType
}

// spawn starts a child for a later event.
func (r *perEvent) spawn() *denoChild {
	return spawnChild(r.cfg, r.env, r.channels, r.results)
}

// reset discards the process that served the last event, with whatever it
// left behind, after its result was posted and before the next event is
// fetched.
func (r *perEvent) reset(context.Context, *outcome) {
	// The spare has had the whole invocation to start; once it has, every
	// process of this environment is accounted for, and nothing of the spare
	// is taken for something the used one left.
	<-r.spare.started
	if r.used != nil {
		r.used.discard()
		r.used = nil
	}
}

// stop ends the loop's processes at once, giving each the same grace to run
// the function's shutdown listeners.
func (r *perEvent) stop() { stopAll(shutdownGrace, r.live()...) }

// live are the processes the loop holds: the spare (which has imported the
// function) and, when SIGTERM came mid-invocation, the busy one.
func (r *perEvent) live() []*denoProcess {
	var live []*denoProcess
	for _, c := range []*denoChild{r.spare, r.used} {
		if c == nil {
			continue
		}
		<-c.started
		if c.denoProcess != nil {
			live = append(live, c.denoProcess)
		}
	}
	return live
}
