package main

import (
	"context"
	"time"
)

// shutdownGrace is how long Deno gets to run its own SIGTERM listeners when the
// environment shuts down. Lambda allows the whole runtime about 500 ms.
const shutdownGrace = 300 * time.Millisecond

// runtime1 keeps one Deno process for the life of the execution environment
// and replaces it only when it dies or overruns a deadline.
type runtime1 struct {
	cfg    config
	env    []string
	server *denoServer
}

// startRuntime1 starts Deno and imports the function: the init phase.
func startRuntime1(ctx context.Context, cfg config, env []string) (*runtime1, error) {
	r := &runtime1{cfg: cfg, env: env}
	return r, r.reset(ctx)
}

func (r *runtime1) invoke(ctx context.Context, inv *invocation) outcome {
	return r.server.invoke(ctx, inv)
}

func (r *runtime1) reset(ctx context.Context) error {
	if r.server != nil {
		r.server.stop(0)
		r.server = nil
	}
	s, err := startDenoServer(ctx, r.cfg, r.env)
	if err != nil {
		return err
	}
	r.server = s
	return nil
}

func (r *runtime1) stop() {
	if r.server != nil {
		r.server.stop(shutdownGrace)
	}
}
