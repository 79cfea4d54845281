package main

import (
	"context"
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

// startRuntime1 starts Deno and imports the function: the init phase.
func startRuntime1(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*runtime1, error) {
	r := &runtime1{cfg: cfg, env: env, channels: channels, log: log, results: &reusedBuffer{}}
	return r, r.reset(ctx)
}

func (r *runtime1) invoke(ctx context.Context, inv *invocation) outcome {
	if r.server.exited() {
		// Deno died between invocations (say, an unhandled rejection after the
		// last result): this event goes to a fresh process, not to the corpse.
		if err := r.reset(ctx); err != nil {
			fe := asFunctionError(err)
			return outcome{err: exitError(inv.requestID, fe.Type+": "+fe.Message), broken: true}
		}
	}
	return r.server.invoke(ctx, inv)
}

func (r *runtime1) reset(ctx context.Context) error {
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
