package main

import "context"

// runtime2 gives every invocation a Deno process that has never served
// another. To hide Deno's start-up, the next process is started as soon as the
// current one receives its event, so it has imported the function by the time
// the next event arrives. A used process is killed once its result is posted.
type runtime2 struct {
	cfg     config
	env     []string
	spare   *denoChild    // starting, importing or ready, for the next event
	used    *denoChild    // served its event; discarded by reset
	results *reusedBuffer // large results, read into one buffer from one child to the next
}

// startRuntime2 starts the first process and waits until it has imported the
// function: the init phase. That process serves the first invocation.
func startRuntime2(ctx context.Context, cfg config, env []string) (*runtime2, error) {
	r := &runtime2{cfg: cfg, env: env, results: &reusedBuffer{}}
	r.spare = spawnChild(cfg, env, r.results)
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
		child = spawnChild(r.cfg, r.env, r.results) // the spare died while waiting
	}
	r.spare = spawnChild(r.cfg, r.env, r.results)
	r.used = child
	if err := child.waitReady(ctx); err != nil {
		fe := asFunctionError(err)
		return outcome{err: &functionError{Type: fe.Type, Message: "RequestId: " + inv.requestID + " " + fe.Message,
			StackTrace: fe.StackTrace}, broken: true}
	}
	out := child.run(ctx, inv)
	out.broken = true // used up
	return out
}

// reset discards the process that served the last event, after its result
// was posted and before the next event is fetched.
func (r *runtime2) reset(context.Context) error {
	if r.used != nil {
		r.used.discard()
		r.used = nil
	}
	// The spare has had the whole invocation to start; once it has, every
	// process of this environment is accounted for before the next event.
	<-r.spare.started
	return nil
}

func (r *runtime2) stop() {
	r.spare.discard()
	_ = r.reset(context.Background())
}
