package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// exitWait bounds how long a failed exchange waits for the Deno process to
// finish dying before it is killed.
const exitWait = time.Second

// denoProcess is one Deno process running runtime.js, in its own process
// group, with a private channel to the bootstrap: JSON lines in on stdin, JSON
// lines (and result bytes) out on fd 3. Neither is visible in the process list
// or the environment, and the function's console output cannot reach fd 3.
type denoProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	control *bufio.Reader // fd 3, from runtime.js
	done    chan struct{} // closed once the process has exited
	state   string        // how it exited ("exit status 3"), valid after done
	// expected is set while the bootstrap waits on the process or stops it:
	// an exit then is reported by whoever waits, not as a surprise.
	expected atomic.Bool
}

// controlMessage is the first line runtime.js reads from stdin.
type controlMessage struct {
	Token   string `json:"token,omitempty"`
	Bundle  string `json:"bundle"`
	Export  string `json:"export"`
	Handler string `json:"handler"`
}

// readyMessage is the line runtime.js writes on fd 3 when init is over: the
// bridge port (runtime1), or the reason the function could not be loaded.
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

// startDeno starts runtime.js and sends it the control line. The function is
// imported from then on; awaitReady tells when that is over.
func startDeno(cfg config, env []string, control controlMessage) (*denoProcess, error) {
	cmd := exec.Command(cfg.denoPath, "run", "--no-config", "--no-lock", "--no-prompt",
		"--cached-only", "--allow-all", cfg.runtimeJS)
	cmd.Env = env
	cmd.Dir = cfg.taskRoot
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// Own process group, so everything Deno starts is stopped with it; and
	// killed by the kernel if the bootstrap dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("control pipe: %w", err)
	}
	cmd.ExtraFiles = []*os.File{controlW} // fd 3 in Deno
	err = cmd.Start()
	controlW.Close()
	if err != nil {
		controlR.Close()
		return nil, newInitError("Runtime.InvalidEntrypoint", fmt.Sprintf("Cannot start %s: %v", cfg.denoPath, err))
	}
	p := &denoProcess{cmd: cmd, stdin: stdin, control: bufio.NewReader(controlR), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // also closes stdin
		p.state = cmd.ProcessState.String()
		controlR.Close()
		close(p.done)
	}()
	line, _ := json.Marshal(control)
	// A pipe holds far more than one control line: this never blocks.
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		p.stop(0)
		return nil, exitError("", p.state)
	}
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
	var line []byte
	select {
	case line = <-lines:
	case <-ctx.Done():
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
// shutdown listeners can run, SIGKILL after grace.
func (p *denoProcess) stop(grace time.Duration) {
	p.expected.Store(true)
	pgid := p.cmd.Process.Pid
	if p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // children left behind
		return
	}
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			return
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}
