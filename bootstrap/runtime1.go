package main

import (
	"context"
	"time"
)

// shutdownGrace is how long Deno gets to run its own SIGTERM listeners when the
// environment shuts down. Lambda allows the whole runtime about 500 ms.
const shutdownGrace = 300 * time.Millisecond

// runtime1 keeps one Deno process for the life of the execution environment
// and replaces it only when it dies or overruns a deadline. Events and results
// travel on the same private pipes as runtime2's: no sockets, no HTTP.
type runtime1 struct {
	cfg   config
	env   []string
	log   *logger
	child *denoChild
}

// startRuntime1 starts Deno and imports the function: the init phase.
func startRuntime1(ctx context.Context, cfg config, env []string, log *logger) (*runtime1, error) {
	r := &runtime1{cfg: cfg, env: env, log: log}
	return r, r.reset(ctx)
}

func (r *runtime1) invoke(ctx context.Context, inv *invocation) outcome {
	if r.child.dead() {
		// Deno died between invocations (say, an unhandled rejection after the
		// last result): this event goes to a fresh process, not to the corpse.
		if err := r.reset(ctx); err != nil {
			fe := asFunctionError(err)
			return outcome{err: exitError(inv.requestID, fe.Type+": "+fe.Message), broken: true}
		}
	}
	c := r.child
	c.expected.Store(true)
	out := c.run(ctx, inv)
	if c.exited() {
		out.broken = true // this invocation reports its death
	} else {
		c.expected.Store(false)
	}
	return out
}

func (r *runtime1) reset(ctx context.Context) error {
	if r.child != nil {
		r.child.discard()
		r.child = nil
	}
	c := spawnChild(r.cfg, r.env)
	if err := c.waitReady(ctx); err != nil {
		c.discard()
		return err
	}
	r.child = c
	go func() {
		<-c.done
		if !c.expected.Load() {
			r.log.errorf("", "Deno exited between invocations (%s): the next invocation starts a fresh one", c.state)
		}
	}()
	return nil
}

func (r *runtime1) stop() {
	if r.child != nil {
		<-r.child.started
		r.child.stop(shutdownGrace)
	}
}
