package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// exitWait bounds how long a failed exchange waits for the Deno process to
// finish dying before it is killed.
const exitWait = time.Second

// denoProcess is one Deno process running runtime.js, in its own process
// group, with a private channel to the bootstrap: one control line in on stdin
// (then closed), JSON lines (and result bytes) out on a FIFO, and for runtime2
// events in on a second FIFO; runtime.js unlinks each FIFO once it has opened
// it. None is visible in the process list or the environment, and the
// function's console output cannot reach them. (An inherited fd would do, but
// Deno grants /dev/fd/N only with --allow-all.)
type denoProcess struct {
	cmd         *exec.Cmd
	events      *os.File      // runtime2's events FIFO, nil for runtime1
	control     *bufio.Reader // the FIFO, from runtime.js
	controlFile *os.File
	done        chan struct{} // closed once the process has exited
	state       string        // how it exited ("exit status 3"), valid after done
	// expected is set while the bootstrap waits on the process or stops it:
	// an exit then is reported by whoever waits, not as a surprise.
	expected atomic.Bool
}

// controlMessage is the first line runtime.js reads from stdin.
type controlMessage struct {
	Channel string `json:"channel"`          // the FIFO to write to
	Events  string `json:"events,omitempty"` // runtime2's FIFO to read events from
	Token   string `json:"token,omitempty"`  // runtime1's bridge token
	Bundle  string `json:"bundle"`
	Export  string `json:"export"`
	Handler string `json:"handler"`
}

// readyMessage is the line runtime.js writes on the FIFO when init is over:
// the bridge port (runtime1), or the reason the function could not be loaded.
type readyMessage struct {
	Port  int            `json:"port"`
	Error *functionError `json:"error"`
}

// denoEnv is the environment for Deno: everything Lambda gave the bootstrap,
// minus the per-invocation trace id, plus Deno's own settings.
func denoEnv(environ []string, cfg config) []string {
	env := make([]string, 0, len(environ)+3)
	for _, kv := range environ {
		if !hasKey(kv, "_X_AMZN_TRACE_ID") && !hasKey(kv, "DENO_DIR") {
			env = append(env, kv)
		}
	}
	return append(env, "DENO_DIR="+cfg.denoDir, "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PROMPT=1")
}

func hasKey(kv, key string) bool {
	return len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key
}

// openChannel makes a FIFO in a private directory under TMPDIR and opens it.
// Opening it read-write never blocks, and the reader never sees EOF: the
// process's exit is watched instead.
func openChannel(tmpDir string) (string, *os.File, error) {
	dir := filepath.Join(tmpDir, ".deno-lambda")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("control channel: %w", err)
	}
	name := make([]byte, 12)
	_, _ = rand.Read(name)
	path := filepath.Join(dir, "control-"+hex.EncodeToString(name))
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return "", nil, fmt.Errorf("control channel: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		os.Remove(path)
		return "", nil, fmt.Errorf("control channel: %w", err)
	}
	growPipe(f)
	return path, f, nil
}

// pipeSize is what growPipe asks for: a 1 MB event or result then crosses in
// one or two reads instead of sixteen 64 KiB ones. Linux allows up to
// /proc/sys/fs/pipe-max-size (1 MiB by default) without privileges.
const pipeSize = 1 << 20

// growPipe enlarges a pipe's kernel buffer, best effort: a pipe left at its
// default size works, only slower for large events.
func growPipe(f *os.File) {
	if raw, err := f.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			const fSetPipeSize = 1031 // F_SETPIPE_SZ
			_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, pipeSize)
		})
	}
}

// startDeno starts runtime.js and sends it the control line on stdin, which is
// then closed: a function reading stdin sees its end, and can steal nothing.
// runtime2's events travel on a FIFO of their own. The function is imported
// from then on; awaitReady tells when that is over.
func startDeno(cfg config, env []string, control controlMessage) (*denoProcess, error) {
	channel, controlFile, err := openChannel(cfg.tmpDir)
	if err != nil {
		return nil, err
	}
	control.Channel = channel
	listens := control.Token != ""
	var events *os.File
	if !listens {
		if control.Events, events, err = openChannel(cfg.tmpDir); err != nil {
			controlFile.Close()
			os.Remove(channel)
			return nil, err
		}
	}
	args := []string{"run", "--no-config", "--no-lock", "--no-prompt", "--cached-only"}
	args = append(args, cfg.permissions...)
	args = append(args, runtimePermissions(cfg.permissions, cfg, channel, control.Events, listens)...)
	cmd := exec.Command(cfg.denoPath, append(args, cfg.runtimeJS)...)
	cmd.Env = env
	cmd.Dir = cfg.taskRoot
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// Own process group, so everything Deno starts is stopped with it; and
	// killed by the kernel if the bootstrap dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	line, _ := json.Marshal(control)
	cmd.Stdin = bytes.NewReader(append(line, '\n'))
	removeChannels := func() {
		os.Remove(channel) // in case Deno died before unlinking them
		if events != nil {
			os.Remove(control.Events)
		}
	}

	if err := cmd.Start(); err != nil {
		controlFile.Close()
		if events != nil {
			events.Close()
		}
		removeChannels()
		return nil, newInitError("Runtime.InvalidEntrypoint", fmt.Sprintf("Cannot start %s: %v", cfg.denoPath, err))
	}
	p := &denoProcess{cmd: cmd, events: events, control: bufio.NewReader(controlFile), controlFile: controlFile,
		done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState.String()
		removeChannels()
		close(p.done)
	}()
	return p, nil
}

// awaitReady waits until runtime.js has imported the function. A
// *functionError means the function cannot be initialised.
func (p *denoProcess) awaitReady(ctx context.Context) (readyMessage, error) {
	p.expected.Store(true)
	defer p.expected.Store(false)
	lines := make(chan []byte, 1)
	go func() {
		line, _ := p.control.ReadBytes('\n')
		lines <- line
	}()
	line, got := receive(ctx, lines, p.done)
	if !got && ctx.Err() != nil {
		p.stop(0)
		return readyMessage{}, ctx.Err()
	}
	var ready readyMessage
	if len(line) == 0 || json.Unmarshal(line, &ready) != nil {
		// runtime.js never reported: Deno died (or was killed) during init.
		p.stop(exitWait)
		return ready, exitError("", p.state)
	}
	if ready.Error != nil {
		p.stop(exitWait)
		return ready, ready.Error
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
// and killed if it does not finish within exitWait).
func awaitAnswer[T any](ctx context.Context, p *denoProcess, inv *invocation, answers <-chan T,
	errOf func(T) error) (T, *functionError) {
	started := time.Now()
	a, got := receive(ctx, answers, p.done)
	if !got && ctx.Err() == nil {
		return a, exitError(inv.requestID, p.state)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		p.stop(0)
		return a, timeoutError(inv.requestID, inv.deadline.Sub(started).Seconds())
	case ctx.Err() != nil:
		return a, shutdownError(inv.requestID)
	case errOf(a) != nil:
		select {
		case <-p.done:
		case <-time.After(exitWait):
			p.stop(0)
		}
		return a, exitError(inv.requestID, p.state)
	}
	return a, nil
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
// whatever the process left behind.
func (p *denoProcess) stop(grace time.Duration) {
	p.expected.Store(true)
	defer p.controlFile.Close()
	if p.events != nil {
		defer p.events.Close()
	}
	pgid := p.cmd.Process.Pid
	if grace > 0 && !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}
