package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// runtimeName picks the runtime this binary implements; the build sets it
// with -ldflags "-X main.runtimeName=runtime2".
var runtimeName = "runtime1"

func main() {
	tuneGoRuntime()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bootstrap:", err)
		os.Exit(1)
	}
}

// tuneGoRuntime fits Go's scheduler and collector to a process that mostly
// waits and passes bytes along, unless GOMAXPROCS or GOGC say otherwise. One P:
// each event hops between a few goroutines, and on one thread those hops cost
// no wake-ups. GOGC 25: most of the heap is the event and result buffers kept
// for reuse, which the collector need not scan, so collecting sooner is cheap
// and keeps the peak RSS with large events low. A memory limit (GOMEMLIMIT)
// was tried and dropped: set tight enough to matter, it made the collector run
// through init. The figures are in docs/benchmarks.md.
func tuneGoRuntime() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}

// run is the life of one execution environment: read the configuration,
// initialise the function, then serve invocations until shutdown.
func run(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate bootstrap: %w", err)
	}
	cfg, err := loadConfig(os.Getenv, exe)
	if errors.Is(err, errNoRuntimeAPI) {
		return err
	}
	log := newLogger(stderrRelay, cfg.jsonLogs) // never inside a line relayed from Deno
	api := runtimeapi.New(cfg.runtimeAPI, cfg.timeout)
	if err != nil {
		return initFailed(ctx, api, log, err)
	}
	procs.shared.Store(cfg.concurrency > 0)
	defer procs.watchOrphans(mayStartProcesses(cfg.permissions), log)()
	channels, err := listenChannels(handshakeRoom(cfg))
	if err != nil {
		return initFailed(ctx, api, log, err)
	}
	defer channels.close()

	if err := prepareDenoDir(cfg); err != nil {
		// Deno still runs from a fresh DENO_DIR; only the prepared cache is lost.
		log.errorf("", "Prepared Deno cache not used: %v", err)
	}

	rt, err := startRuntime(ctx, cfg, denoEnv(os.Environ(), cfg), channels, log)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return initFailed(ctx, api, log, err)
	}
	defer func() {
		rt.stop()
		procs.killOrphans() // what the processes left, under Managed Instances too
	}()

	// runtime1 passes large events on to Deno as they arrive; runtime2 writes
	// each whole to a fresh process.
	api.StreamEvents = runtimeName == "runtime1"
	if cfg.concurrency == 0 {
		return serve(ctx, api, rt.loops[0], log)
	}
	api.Concurrently(cfg.concurrency)
	return serveConcurrently(ctx, api, rt.loops, log)
}

// startRuntime runs the init phase of the runtime this binary implements.
func startRuntime(ctx context.Context, cfg config, env []string, channels *channelListener, log *logger) (*loops, error) {
	if runtimeName == "runtime2" {
		return startPerEventLoops(ctx, cfg, env, channels, log)
	}
	r, err := startLongLived(ctx, cfg, env, channels, log)
	if err != nil {
		return nil, err
	}
	l := &loops{loops: make([]invoker, max(cfg.concurrency, 1)), stop: r.stop}
	for i := range l.loops {
		l.loops[i] = r // one runtime1, serving every loop
	}
	return l, nil
}

// initFailed reports an init failure to Lambda, which returns it to the first
// invoke, and ends the runtime.
func initFailed(ctx context.Context, api *runtimeapi.Client, log *logger, err error) error {
	fe := asFunctionError(err)
	log.failure("", "Init Error", fe)
	if postErr := api.InitError(ctx, fe); postErr != nil {
		return fmt.Errorf("init failed (%s) and could not be reported: %w", fe.Type, postErr)
	}
	return fmt.Errorf("init failed: %s", fe.Type)
}
