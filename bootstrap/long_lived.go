package main

import (
	"context"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"sync"
	"time"
)

// shutdownGrace is how long Deno gets to run its own SIGTERM listeners when the
// environment shuts down. Lambda gives the runtime 300 ms of its shutdown
// phase (500 ms with an internal extension) before SIGKILL; the rest of the
// 300 is for stopping what is left.
const shutdownGrace = 250 * time.Millisecond

// longLived keeps one Deno process for the life of the execution environment
// and replaces it only when it dies or overruns a deadline. Under Managed
// Instances it keeps cfg.workers of them, each serving many invocations at
// once (concurrency.go).
type longLived struct {
	cfg      config
	env      []string
	channels *channelListener
	log      *logger
	results  *httpc.Buffer // large results, kept across Deno restarts
	workers  []*worker
	mu       sync.Mutex // over every worker's busy count
}

// worker is one place for a Deno process: the process, replaced when it
// breaks, and how many invocations it serves at the moment.
type worker struct {
	mu     sync.Mutex // held while the process is replaced
	server *bridgedDeno
	busy   int // invocations in flight, under longLived.mu
	// broken, under longLived.mu: its process broke and is being replaced;
	// new invocations go elsewhere meanwhile, if there is anywhere else.
	broken bool
}

// startLongLived starts Deno and imports the function: the init phase. Under
// Managed Instances every worker starts at once; the first failure is the
// init's.
func startLongLived(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*longLived, error) {
	r := &longLived{cfg: cfg, env: env, channels: channels, log: log, results: newResults(cfg, log),
		workers: make([]*worker, max(cfg.workers, 1))}
	errs := make([]error, len(r.workers))
	var wg sync.WaitGroup
	for i := range r.workers {
		r.workers[i] = &worker{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.start(ctx, r.workers[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			r.stop()
			return nil, err // the first reason: every worker imports the same function
		}
	}
	return r, nil
}

func (r *longLived) invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome {
	w := r.pick()
	defer r.unpick(w)
	w.mu.Lock()
	if w.server == nil || w.server.exited() || w.server.retired.Load() {
		// Deno died between invocations (say, an unhandled rejection after the
		// last result), broke serving another invocation and is not replaced
		// yet, or could not be replaced: this event goes to a fresh process,
		// not to the corpse, started within the event's own deadline.
		startCtx, cancel := context.WithDeadline(ctx, inv.Deadline)
		err := r.start(startCtx, w)
		cancel()
		if err != nil {
			w.mu.Unlock()
			return notStarted(ctx, inv, err)
		}
	}
	s := w.server
	w.mu.Unlock()
	out := s.invoke(ctx, inv)
	out.served = s.denoProcess
	if out.broken {
		s.retired.Store(true) // no later invocation is sent to it
		w.mu.Lock()
		current := w.server == s // else another invocation has replaced it already
		w.mu.Unlock()
		r.mu.Lock()
		w.broken = current // until reset replaces it
		r.mu.Unlock()
	}
	return out
}

// pick chooses the worker serving the fewest invocations, one whose process
// is not broken if there is one.
func (r *longLived) pick() *worker {
	r.mu.Lock()
	defer r.mu.Unlock()
	best := r.workers[0]
	for _, w := range r.workers[1:] {
		if w.better(best) {
			best = w
		}
	}
	best.busy++
	return best
}

// better tells whether w should get the next invocation before other: a
// process that has not broken first, then the less busy. Under longLived.mu.
func (w *worker) better(other *worker) bool {
	if w.broken != other.broken {
		return !w.broken
	}
	return w.busy < other.busy
}

func (r *longLived) unpick(w *worker) {
	r.mu.Lock()
	w.busy--
	r.mu.Unlock()
}

// reset replaces the Deno that broke serving out before the next event, so
// that it meets a warm process; when that fails or takes too long, the next
// event starts one. Under concurrency several invocations may see the same
// process break: the first replaces it.
func (r *longLived) reset(ctx context.Context, out *outcome) {
	for _, w := range r.workers {
		w.mu.Lock()
		if w.server != nil && w.server.denoProcess == out.served {
			startCtx, cancel := context.WithTimeout(ctx, restartTimeout)
			if err := r.start(startCtx, w); err != nil && ctx.Err() == nil {
				r.log.errorf("", "A fresh Deno did not become ready (%v): the next invocation starts one", err)
			}
			cancel()
		}
		w.mu.Unlock()
	}
	r.mu.Lock()
	for _, w := range r.workers {
		w.broken = false // replaced, or left to the next invocation to start
	}
	r.mu.Unlock()
}

// start replaces w's Deno process, if any, with a fresh one that has imported
// the function. The caller holds w.mu, or is alone with w.
func (r *longLived) start(ctx context.Context, w *worker) error {
	if w.server != nil {
		w.server.stop(0)
		w.server = nil
	}
	s, err := startBridgedDeno(ctx, r.cfg, r.env, r.channels, r.results)
	if err != nil {
		return err
	}
	w.server = s
	go func() {
		<-s.done
		if !s.expected.Load() {
			r.log.errorf("", "Deno exited between invocations (%s): the next invocation starts a fresh one", s.state)
		}
	}()
	return nil
}

func (r *longLived) stop() {
	var live []*bridgedDeno
	for _, w := range r.workers {
		if w == nil {
			continue
		}
		w.mu.Lock()
		if w.server != nil {
			live = append(live, w.server)
		}
		w.mu.Unlock()
	}
	stopBridged(shutdownGrace, live...)
}
