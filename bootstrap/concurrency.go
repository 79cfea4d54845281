package main

import (
	"context"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Lambda Managed Instances hand one execution environment several invocations
// at once. AWS_LAMBDA_MAX_CONCURRENCY, set by Lambda, says how many: the
// runtime keeps that many GET /next calls outstanding and posts answers
// concurrently, each on its own request id. Its presence with a value is what
// tells the runtime it serves concurrently: on-demand functions never have it.
// (Node's runtime takes it as set even when empty; Lambda never sets it
// empty, and runtime.js reads it as this does.)
//
// What is concurrent, per runtime:
//   - runtime1: every invocation goes to one of DENO_LAMBDA_WORKERS Deno
//     processes (by default as many as there are CPUs, at most the
//     concurrency), each running many handlers at once on its event loop, the
//     least busy first.
//   - runtime2: each of the loops keeps a Deno process of its own for its next
//     event, so up to that many fresh processes run at once, each still used
//     for one invocation only.
//
// What fails with what, under concurrency:
//   - An invocation past its deadline fails alone. runtime1 leaves its handler
//     running (as Lambda does on Managed Instances: the remaining time goes
//     below zero) and drops its answer; runtime2 kills its process, which
//     served nothing else.
//   - A runtime1 Deno process that exits, or in which an error escapes a
//     handler, fails every invocation in flight in that process, and no other;
//     it is replaced, and the other workers go on serving meanwhile.

const (
	concurrencyVar = "AWS_LAMBDA_MAX_CONCURRENCY"
	workersVar     = "DENO_LAMBDA_WORKERS"
	// maxConcurrency bounds the loops (and with runtime2, the processes) the
	// bootstrap keeps: Lambda allows far fewer per execution environment.
	maxConcurrency = 1024
)

// concurrencyOf reads AWS_LAMBDA_MAX_CONCURRENCY and DENO_LAMBDA_WORKERS:
// how many invocations to run at once (0: on demand, one at a time as ever)
// and, for runtime1, over how many Deno processes. cpus is asked only then,
// so that on-demand functions read no cgroup file at init.
func concurrencyOf(getenv func(string) string, cpus func() int) (concurrency, workers int, err error) {
	raw, set := strings.TrimSpace(getenv(concurrencyVar)), getenv(concurrencyVar) != ""
	if !set {
		if getenv(workersVar) != "" {
			return 0, 0, newInitError("Runtime.InvalidConcurrency", fmt.Sprintf(
				"%s is set but %s is not: workers serve Lambda Managed Instances only; remove %s", workersVar, concurrencyVar, workersVar))
		}
		return 0, 1, nil
	}
	concurrency, err = strconv.Atoi(raw)
	if err != nil || concurrency < 1 || concurrency > maxConcurrency {
		return 0, 0, newInitError("Runtime.InvalidConcurrency", fmt.Sprintf(
			"%s=%q: expected a whole number from 1 to %d", concurrencyVar, raw, maxConcurrency))
	}
	workers = min(concurrency, max(cpus(), 1))
	if w := strings.TrimSpace(getenv(workersVar)); w != "" {
		workers, err = strconv.Atoi(w)
		if err != nil || workers < 1 || workers > concurrency {
			return 0, 0, newInitError("Runtime.InvalidConcurrency", fmt.Sprintf(
				"%s=%q: expected a whole number from 1 to %s (%d)", workersVar, w, concurrencyVar, concurrency))
		}
	}
	return concurrency, workers, nil
}

// cpuCount is how many CPUs the bootstrap may use: those it may run on, or
// fewer when its cgroup's CPU quota (cpu.max, as Node's runtime reads it)
// grants less time than that.
func cpuCount() int {
	quota, _ := os.ReadFile("/sys/fs/cgroup/cpu.max")
	return min(runtime.NumCPU(), quotaCPUs(string(quota)))
}

// quotaCPUs reads cgroup v2's cpu.max, "<quota> <period>" or "max <period>":
// the CPUs the quota amounts to, rounded up; a great many when there is none.
func quotaCPUs(cpuMax string) int {
	quota, period, ok := strings.Cut(strings.TrimSpace(cpuMax), " ")
	q, errQ := strconv.ParseInt(quota, 10, 64)
	p, errP := strconv.ParseInt(period, 10, 64)
	if !ok || errQ != nil || errP != nil || q <= 0 || p <= 0 {
		return maxConcurrency
	}
	return int(min((q+p-1)/p, maxConcurrency))
}

// handshakeRoom is how many more Deno processes may dial their channels at
// once than on demand: runtime1 starts its workers together, runtime2 a
// process per loop.
func handshakeRoom(cfg config) int {
	switch {
	case cfg.concurrency == 0:
		return 0
	case runtimeName == "runtime2":
		return cfg.concurrency
	}
	return cfg.workers
}

// serveConcurrently runs loops invoke loops at once, each with its own
// invoker from invokers (runtime1's share one, which runs many at once;
// runtime2's are one per loop). The first loop to fail ends them all; the
// others see a plain cancellation, not its error, which is not theirs.
func serveConcurrently(ctx context.Context, api *runtimeapi.Client, invokers []invoker, log *logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for _, inv := range invokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(ctx, api, inv, log); err != nil {
				once.Do(func() { first = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
}

// loops are the invokers of the invoke loops, one per loop, and how to stop
// every process they hold at once.
type loops struct {
	loops []invoker
	stop  func()
}

// startPerEventLoops starts runtime2: one perEvent per loop, each with a
// process of its own. The first is the init phase; the others' first
// processes start meanwhile, and their first events wait for them.
func startPerEventLoops(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*loops, error) {
	results := newResults(cfg, log)
	first, err := startPerEvent(ctx, cfg, env, channels, results)
	if err != nil {
		return nil, err
	}
	all := []*perEvent{first}
	for len(all) < max(cfg.concurrency, 1) {
		all = append(all, newPerEvent(cfg, env, channels, results))
	}
	l := &loops{stop: func() {
		var live []*denoProcess
		for _, r := range all {
			live = append(live, r.live()...)
		}
		stopAll(shutdownGrace, live...)
	}}
	for _, r := range all {
		l.loops = append(l.loops, r)
	}
	return l, nil
}

// resultRoom bounds the large results the bootstrap holds at once under
// concurrency. Each is read whole before it is posted (bridgedDeno.invoke says
// why), so without a bound a function answering 8 MiB every time would make
// the bootstrap hold that much per invocation in flight. A result past the
// room waits, within its deadline, until a post is answered. It is four of the
// largest results the bridge reads: more than the Runtime API's 6 MB limit
// allows to be useful at once.
const resultRoom = 4 * httpc.MaxBodyBytes

// newResults is where the invocations' large results are read: on demand one
// at a time, under concurrency within resultRoom, saying when one must wait.
func newResults(cfg config, log *logger) *httpc.Buffer {
	results := &httpc.Buffer{}
	if cfg.concurrency > 0 {
		results.Limit(resultRoom, func(n, limit int64) {
			log.warnf("", "a result of %d bytes waits for room: the results being posted hold close to %d bytes, "+
				"the bootstrap's limit under concurrency; smaller results, or a lower AWS_LAMBDA_MAX_CONCURRENCY, avoid the wait", n, limit)
		})
	}
	return results
}
