package main

import (
	"context"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"time"
)

// shutdownGrace is how long Deno gets to run its own SIGTERM listeners when the
// environment shuts down. Lambda gives the runtime 300 ms of its shutdown
// phase (500 ms with an internal extension) before SIGKILL; the rest of the
// 300 is for stopping what is left.
const shutdownGrace = 250 * time.Millisecond

// longLived keeps one Deno process for the life of the execution environment
// and replaces it only when it dies or overruns a deadline.
type longLived struct {
	cfg      config
	env      []string
	channels *channelListener
	log      *logger
	server   *bridgedDeno
	results  *httpc.Buffer // large results, kept across Deno restarts
}

// startLongLived starts Deno and imports the function: the init phase.
func startLongLived(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*longLived, error) {
	r := &longLived{cfg: cfg, env: env, channels: channels, log: log, results: &httpc.Buffer{}}
	return r, r.start(ctx)
}

func (r *longLived) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	if r.server == nil || r.server.exited() {
		// Deno died between invocations (say, an unhandled rejection after the
		// last result), or could not be replaced: this event goes to a fresh
		// process, not to the corpse, started within the event's own deadline.
		startCtx, cancel := context.WithDeadline(ctx, inv.Deadline)
		err := r.start(startCtx)
		cancel()
		if err != nil {
			return notStarted(ctx, inv, err)
		}
	}
	return r.server.invoke(ctx, inv)
}

// reset replaces a Deno that broke before the next event, so that it meets a
// warm process; when that fails or takes too long, the next event starts one.
func (r *longLived) reset(ctx context.Context) {
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
func (r *longLived) start(ctx context.Context) error {
	if r.server != nil {
		r.server.stop(0)
		r.server = nil
	}
	s, err := startBridgedDeno(ctx, r.cfg, r.env, r.channels, r.results)
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

func (r *longLived) stop() {
	if r.server != nil {
		r.server.stop(shutdownGrace)
	}
}
