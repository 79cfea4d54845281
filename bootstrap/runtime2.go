package main

import (
	"context"
	"errors"
)

// runtime2 gives every invocation a Deno process that has never served
// another. To hide Deno's start-up, the next process is started as soon as the
// current one receives its event, so it has imported the function by the time
// the next event arrives. A used process is killed once its result is posted.
type runtime2 struct {
	cfg      config
	env      []string
	channels *channelListener
	spare    *denoChild    // starting, importing or ready, for the next event
	used     *denoChild    // served its event; discarded by reset
	results  *reusedBuffer // large results, read into one buffer from one child to the next
}

// startRuntime2 starts the first process and waits until it has imported the
// function: the init phase. That process serves the first invocation.
func startRuntime2(ctx context.Context, cfg config, env []string, channels *channelListener) (*runtime2, error) {
	r := &runtime2{cfg: cfg, env: env, channels: channels, results: &reusedBuffer{}}
	r.spare = r.spawn()
	if err := r.spare.waitReady(ctx); err != nil {
		r.spare.discard()
		return nil, err
	}
	return r, nil
}

func (r *runtime2) invoke(ctx context.Context, inv *invocation) outcome {
	child := r.spare
	if child.dead() {
		child.discard()
		child = r.spawn() // the spare died while waiting
	}
	r.spare = r.spawn()
	r.used = child
	// The function's import may never end: the event's deadline bounds it.
	readyCtx, cancel := context.WithDeadline(ctx, inv.deadline)
	err := child.waitReady(readyCtx)
	cancel()
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return outcome{err: timeoutError(inv), broken: true}
	}
	if err != nil {
		fe := asFunctionError(err)
		return outcome{err: &functionError{Type: fe.Type, Message: "RequestId: " + inv.requestID + " " + fe.Message,
			StackTrace: fe.StackTrace}, broken: true}
	}
	out := child.run(ctx, inv)
	out.broken = true // used up
	return out
}

// spawn starts a child for a later event.
func (r *runtime2) spawn() *denoChild {
	return spawnChild(r.cfg, r.env, r.channels, r.results)
}

// reset discards the process that served the last event, with whatever it
// left behind, after its result was posted and before the next event is
// fetched.
func (r *runtime2) reset(context.Context) {
	// The spare has had the whole invocation to start; once it has, every
	// process of this environment is accounted for, and nothing of the spare
	// is taken for something the used one left.
	<-r.spare.started
	if r.used != nil {
		r.used.discard()
		r.used = nil
	}
}

// stop ends both processes at once, giving each the same grace to run the
// function's shutdown listeners: the spare (which has imported the function)
// and, when SIGTERM came mid-invocation, the busy one.
func (r *runtime2) stop() {
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
	stopAll(shutdownGrace, live...)
}
