package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// exitWait bounds how long a failed exchange waits for the Deno process to
// finish dying before it is killed.
const exitWait = time.Second

// denoProcess is one Deno process running runtime.js, in its own process
// group, with a private channel to the bootstrap (channels.go): the control
// line comes in on stdin, which then ends; everything after that travels on a
// connection runtime.js dials and proves with its token. Nothing of it is
// visible in the process list, the environment or the file system, and the
// function's console output cannot reach it.
type denoProcess struct {
	cmd     *exec.Cmd
	token   string                  // the process's secret: its channel's proof, runtime1's bridge token
	channel atomic.Pointer[channel] // nil until awaitReady has it
	arrived <-chan *channel         // where the channel comes
	forget  func()                  // withdraws the token once it is no longer awaited
	done    chan struct{}           // closed once the process has exited
	state   string                  // how it exited ("exit status 3"), valid after done
	// expected is set while the bootstrap waits on the process or stops it:
	// an exit then is reported by whoever waits, not as a surprise.
	expected atomic.Bool
}

// controlMessage is the line runtime.js reads from stdin.
type controlMessage struct {
	Port        int      `json:"port"`  // where to dial the bootstrap
	Token       string   `json:"token"` // proves the channel, and guards runtime1's bridge
	Bundle      string   `json:"bundle"`
	Export      string   `json:"export"`
	Handler     string   `json:"handler"`
	Permissions []string `json:"permissions"` // the function's flags, for advice
	DenoDir     string   `json:"denoDir"`     // the runtime's cache, out of the function's reach
	RuntimeAPI  string   `json:"runtimeApi"`  // out of the function's reach too
}

// readyMessage is the line runtime.js writes on its channel when init is
// over: the bridge port and whether the handler streams (runtime1), or the
// reason the function could not be loaded.
type readyMessage struct {
	Port    int            `json:"port"`
	Streams bool           `json:"streams"`
	Error   *functionError `json:"error"`
}

// executionEnv is AWS_EXECUTION_ENV for the function. Lambda sets it on its
// managed runtimes (AWS_Lambda_nodejs22.x) and leaves it unset on OS-only
// ones; libraries read it to tell that they run on Lambda (Powertools' tracer
// stays off without it), so the runtime names itself the same way.
const executionEnv = "AWS_Lambda_deno"

// denoEnv is the environment for Deno: everything Lambda gave the bootstrap,
// minus the per-invocation trace id and the variables the function's
// permissions deny (so that no process it starts can read them either), plus
// AWS_EXECUTION_ENV unless set, and Deno's own settings.
func denoEnv(environ []string, cfg config) []string {
	env := make([]string, 0, len(environ)+4)
	named := false
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name != "_X_AMZN_TRACE_ID" && name != "DENO_DIR" && !deniesEnv(cfg.permissions, name) {
			env = append(env, kv)
		}
		named = named || name == "AWS_EXECUTION_ENV"
	}
	if !named && !deniesEnv(cfg.permissions, "AWS_EXECUTION_ENV") {
		env = append(env, "AWS_EXECUTION_ENV="+executionEnv)
	}
	return append(env, "DENO_DIR="+cfg.denoDir, "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PROMPT=1")
}

// startDeno starts runtime.js and sends it the control line on stdin, which is
// then closed: a function reading stdin sees its end, and can steal nothing.
// The function is imported from then on; awaitReady tells when that is over.
// listens: runtime.js serves runtime1's bridge on a loopback port.
func startDeno(cfg config, env []string, channels *channelListener, control controlMessage, listens bool) (*denoProcess, error) {
	token, arrived, forget, err := channels.expect()
	if err != nil {
		return nil, err
	}
	control.Port, control.Token = channels.port, token
	control.Permissions, control.DenoDir, control.RuntimeAPI = cfg.permissions, cfg.denoDir, cfg.runtimeAPI
	args := []string{"run", "--no-config", "--no-lock", "--no-prompt", "--cached-only"}
	args = append(args, cfg.permissions...)
	args = append(args, runtimePermissions(cfg, channels.address(), listens)...)
	cmd := exec.Command(cfg.denoPath, append(args, cfg.runtimeJS)...)
	cmd.Env = env
	cmd.Dir = cfg.taskRoot
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if cfg.concurrency > 0 { // several processes write at once: log_relay.go
		if cmd.Stdout, cmd.Stderr, err = relayPipes(); err != nil {
			forget()
			return nil, err
		}
		defer cmd.Stdout.(*os.File).Close()
		defer cmd.Stderr.(*os.File).Close()
	}
	// Own process group, so everything Deno starts is stopped with it; and
	// killed by the kernel if the bootstrap dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	line, _ := json.Marshal(control)
	cmd.Stdin = bytes.NewReader(append(line, '\n'))

	if err := procs.start(cmd); err != nil {
		forget()
		return nil, newInitError("Runtime.InvalidEntrypoint", fmt.Sprintf("Cannot start %s: %v", cfg.denoPath, err))
	}
	p := &denoProcess{cmd: cmd, token: token, arrived: arrived, forget: forget, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		procs.exited(cmd.Process.Pid)
		p.state = cmd.ProcessState.String()
		close(p.done)
	}()
	return p, nil
}

// awaitReady waits until runtime.js has dialled its channel and imported the
// function. A *functionError means the function cannot be initialised.
func (p *denoProcess) awaitReady(ctx context.Context) (readyMessage, error) {
	p.expected.Store(true)
	defer p.expected.Store(false)
	defer p.forget()
	type arrival struct {
		ch   *channel
		line []byte
		err  error
	}
	arrivals := make(chan arrival)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		var a arrival
		select {
		case a.ch = <-p.arrived:
		case <-quit:
			return
		}
		a.line, a.err = a.ch.readLine()
		select {
		case arrivals <- a:
		case <-quit: // nobody waits any more: the process is being stopped
			a.ch.close()
		}
	}()
	// runtime.js dials before it imports the function, so a process that dies
	// during import has its channel, and what it said, in the channel's buffers.
	a, got := receive(ctx, arrivals, p.done)
	p.channel.Store(a.ch)
	if !got && ctx.Err() != nil {
		p.stop(0)
		return readyMessage{}, ctx.Err()
	}
	var ready readyMessage
	if len(a.line) == 0 && !errors.Is(a.err, errLineTooLong) {
		// runtime.js never reported: Deno died (or was killed) during init.
		p.stop(exitWait)
		return ready, exitError("", p.state)
	}
	if a.err != nil || json.Unmarshal(a.line, &ready) != nil {
		// Not in runtime.js's words: the function's code shaped the line.
		p.stop(0)
		return ready, newInitError("Runtime.BridgeError", fmt.Sprintf("runtime.js sent a malformed ready line %q", truncateBytes(a.line, 64)))
	}
	if ready.Error != nil {
		p.stop(exitWait)
		return ready, ready.Error.Sanitized()
	}
	return ready, nil
}

// receive waits for a value from ch. If the process exits first, a value it
// sent just before still counts, for up to exitWait. got is false when none
// came, or ctx ended first.
func receive[T any](ctx context.Context, ch <-chan T, done <-chan struct{}) (v T, got bool) {
	select {
	case v = <-ch:
		return v, true
	case <-done:
		select {
		case v = <-ch:
			return v, true
		case <-time.After(exitWait):
			return v, false
		}
	case <-ctx.Done():
		return v, false
	}
}

// awaitAnswer waits for the process's answer to one invocation, and turns
// anything else into that invocation's error: the process exiting (an answer
// sent just before still counts), the deadline (the process and all it started
// are killed), shutdown, or a failed exchange (the process is presumed dying,
// and killed if it does not finish within exitWait). A shared process, which
// serves other invocations at once, is never killed for one of them: past the
// deadline the invocation fails alone, and a failed exchange that does not
// end the process fails only its own.
func awaitAnswer[T any](ctx context.Context, p *denoProcess, inv *runtimeapi.Invocation, answers <-chan T,
	errOf func(T) error, shared bool) (T, *functionError) {
	a, got := receive(ctx, answers, p.done)
	var err error
	if got {
		err = errOf(a)
	}
	return a, answerError(ctx, p, inv, got, err, shared)
}

// answerError is the invocation's error once an answer was awaited, as
// awaitAnswer tells it: got is whether the answer came, err its exchange's
// failure.
func answerError(ctx context.Context, p *denoProcess, inv *runtimeapi.Invocation, got bool, err error, shared bool) *functionError {
	if !got && ctx.Err() == nil {
		return exitError(inv.RequestID, p.state)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		if !shared {
			p.stop(0)
		}
		return timeoutError(inv)
	case ctx.Err() != nil:
		return shutdownError(inv.RequestID)
	case err != nil:
		select {
		case <-p.done:
		case <-time.After(exitWait):
			if shared {
				return newInitError("Runtime.BridgeError", fmt.Sprintf(
					"RequestId: %s Error: the exchange with Deno failed: %v", inv.RequestID, err))
			}
			p.stop(0)
		}
		return exitError(inv.RequestID, p.state)
	}
	return nil
}

// exited tells whether the process is gone.
func (p *denoProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the Deno process group: SIGTERM first so the function's own
// shutdown listeners can run, SIGKILL after grace, and SIGKILL in any case for
// whatever the process left behind, its orphans included (reaper.go).
func (p *denoProcess) stop(grace time.Duration) {
	stopAll(grace, p)
}

// stopAll stops processes together, so that they share one grace period.
func stopAll(grace time.Duration, ps ...*denoProcess) {
	pids := make([]int, len(ps))
	for i, p := range ps {
		pids[i] = p.cmd.Process.Pid
	}
	left := procs.below(pids)
	for _, p := range ps {
		p.expected.Store(true)
		if grace > 0 && !p.exited() {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	if grace > 0 {
		end := time.Now().Add(grace)
		for _, p := range ps {
			select {
			case <-p.done:
			case <-time.After(time.Until(end)): // what is left of the shared grace
			}
		}
	}
	for _, p := range ps {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if c := p.channel.Load(); c != nil {
			c.close()
		}
	}
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !procs.shared.Load() {
		procs.killOrphans()
	}
}

// cutOffError is the invocation's error when Deno's answer stopped short,
// buffered or streamed: past the deadline a timeout, else Deno's death
// (exitWait for it to show, then it is killed). broken: the process is gone.
// A process shared by other invocations is left be, unless it died.
func cutOffError(p *denoProcess, inv *runtimeapi.Invocation, shared bool, err error) (*functionError, bool) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if !shared {
			p.stop(0)
		}
		return timeoutError(inv), !shared
	}
	select {
	case <-p.done:
		return exitError(inv.RequestID, p.state), true
	case <-time.After(exitWait):
	}
	if shared {
		return newInitError("Runtime.BridgeError", fmt.Sprintf(
			"RequestId: %s Error: the streamed response stopped short: %v", inv.RequestID, err)), false
	}
	p.stop(0)
	return exitError(inv.RequestID, p.state), true
}
