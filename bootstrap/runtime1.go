package main

import (
	"context"
	"errors"
	"time"
)

// shutdownGrace is how long Deno gets to run its own SIGTERM listeners when the
// environment shuts down. Lambda gives the runtime 300 ms of its shutdown
// phase (500 ms with an internal extension) before SIGKILL; the rest of the
// 300 is for stopping what is left.
const shutdownGrace = 250 * time.Millisecond

// runtime1 keeps one Deno process for the life of the execution environment
// and replaces it only when it dies or overruns a deadline.
type runtime1 struct {
	cfg      config
	env      []string
	channels *channelListener
	log      *logger
	server   *denoServer
	results  *reusedBuffer // large results, kept across Deno restarts
}

// restartTimeout bounds replacing a Deno that broke, between invocations, as
// Lambda bounds the init phase: the function's import may never end.
const restartTimeout = 10 * time.Second

// startRuntime1 starts Deno and imports the function: the init phase.
func startRuntime1(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*runtime1, error) {
	r := &runtime1{cfg: cfg, env: env, channels: channels, log: log, results: &reusedBuffer{}}
	return r, r.start(ctx)
}

func (r *runtime1) invoke(ctx context.Context, inv *invocation) outcome {
	if r.server == nil || r.server.exited() {
		// Deno died between invocations (say, an unhandled rejection after the
		// last result), or could not be replaced: this event goes to a fresh
		// process, not to the corpse, started within the event's own deadline.
		startCtx, cancel := context.WithDeadline(ctx, inv.deadline)
		err := r.start(startCtx)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return outcome{err: shutdownError(inv.requestID), broken: true}
		case errors.Is(err, context.DeadlineExceeded):
			return outcome{err: timeoutError(inv), broken: true}
		default:
			fe := asFunctionError(err)
			return outcome{err: exitError(inv.requestID, fe.Type+": "+fe.Message), broken: true}
		}
	}
	return r.server.invoke(ctx, inv)
}

// reset replaces a Deno that broke before the next event, so that it meets a
// warm process; when that fails or takes too long, the next event starts one.
func (r *runtime1) reset(ctx context.Context) {
	if r.server == nil {
		return // the last invocation could not start one either
	}
	startCtx, cancel := context.WithTimeout(ctx, restartTimeout)
	defer cancel()
	if err := r.start(startCtx); err != nil && ctx.Err() == nil {
		r.log.errorf("", "A fresh Deno did not become ready (%v): the next invocation starts one", err)
	}
}

// start replaces the Deno process, if any, with a fresh one that has imported
// the function.
func (r *runtime1) start(ctx context.Context) error {
	if r.server != nil {
		r.server.stop(0)
		r.server = nil
	}
	s, err := startDenoServer(ctx, r.cfg, r.env, r.channels, r.results)
	if err != nil {
		return err
	}
	r.server = s
	go func() {
		<-s.done
		if !s.expected.Load() {
			r.log.errorf("", "Deno exited between invocations (%s): the next invocation starts a fresh one", s.state)
		}
	}()
	return nil
}

func (r *runtime1) stop() {
	if r.server != nil {
		r.server.stop(shutdownGrace)
	}
}
