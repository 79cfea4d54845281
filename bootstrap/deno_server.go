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
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// bridgeTokenHeader carries the secret that runtime.js demands on every bridge
// request. The token travels to Deno on its stdin, never in argv or the
// environment, so no other local process can drive the bridge.
const bridgeTokenHeader = "X-Bridge-Token"

// exitWait bounds how long a failed bridge request waits for the Deno process
// to finish dying before it is killed.
const exitWait = time.Second

// denoServer is runtime1's Deno process: it imports the function once and then
// serves every invocation over a loopback HTTP bridge.
type denoServer struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process has exited
	state  string        // how it exited ("exit status 3"), valid after done
	url    string
	token  string
	client *http.Client
	// expected is set while an invocation runs or the bootstrap stops Deno:
	// an exit then is reported by whoever expects it, not as a surprise.
	expected atomic.Bool
}

// controlMessage is the one line runtime.js reads from stdin at startup.
type controlMessage struct {
	Token   string `json:"token"`
	Bundle  string `json:"bundle"`
	Export  string `json:"export"`
	Handler string `json:"handler"`
}

// readyMessage is the one line runtime.js writes on fd 3 when init is over:
// either the bridge port or the reason the function could not be loaded.
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

// denoCommand builds the command line that runs runtime.js.
func denoCommand(cfg config, env []string) *exec.Cmd {
	cmd := exec.Command(cfg.denoPath, "run", "--no-config", "--no-lock", "--no-prompt",
		"--cached-only", "--allow-all", cfg.runtimeJS)
	cmd.Env = env
	cmd.Dir = cfg.taskRoot
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// Own process group, so everything Deno starts is stopped with it; and
	// killed by the kernel if the bootstrap dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// startDenoServer starts Deno, hands it the function to import and waits until
// it reports the bridge ready. A *functionError means the function cannot be
// initialised; it is meant for /runtime/init/error.
func startDenoServer(ctx context.Context, cfg config, env []string) (*denoServer, error) {
	tokenBytes := make([]byte, 32)
	if _, err := rand.Read(tokenBytes); err != nil {
		return nil, fmt.Errorf("bridge token: %w", err)
	}
	s := &denoServer{token: hex.EncodeToString(tokenBytes), done: make(chan struct{})}
	control, _ := json.Marshal(controlMessage{s.token, cfg.bundlePath, cfg.exportPath, cfg.handler})

	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("ready pipe: %w", err)
	}
	defer readyR.Close()
	s.cmd = denoCommand(cfg, env)
	s.cmd.Stdin = bytes.NewReader(append(control, '\n'))
	s.cmd.ExtraFiles = []*os.File{readyW} // fd 3 in Deno
	err = s.cmd.Start()
	readyW.Close()
	if err != nil {
		return nil, newInitError("Runtime.InvalidEntrypoint", fmt.Sprintf("Cannot start %s: %v", cfg.denoPath, err))
	}
	go func() {
		_ = s.cmd.Wait()
		s.state = s.cmd.ProcessState.String()
		close(s.done)
	}()

	lines := make(chan []byte, 1)
	go func() {
		line, _ := bufio.NewReader(readyR).ReadBytes('\n')
		lines <- line
	}()
	var line []byte
	select {
	case line = <-lines:
	case <-ctx.Done():
		s.stop(0)
		return nil, ctx.Err()
	}
	var ready readyMessage
	if len(line) == 0 || json.Unmarshal(line, &ready) != nil {
		// runtime.js never reported: Deno died (or was killed) during init.
		s.stop(exitWait)
		return nil, exitError("", s.state)
	}
	if ready.Error != nil {
		s.stop(exitWait)
		return nil, ready.Error
	}
	s.url = "http://127.0.0.1:" + strconv.Itoa(ready.Port) + "/invoke"
	s.client = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only, whatever HTTP_PROXY says
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}}
	return s, nil
}

// outcome is what one invocation produced.
type outcome struct {
	response []byte         // the result, when err is nil
	err      *functionError // the failure to post to /error
	broken   bool           // the Deno process is gone and must be replaced
}

// invoke hands one event to Deno and waits for its result, its death, or the
// deadline, whichever comes first.
func (s *denoServer) invoke(ctx context.Context, inv *invocation) outcome {
	s.expected.Store(true)
	defer func() {
		select {
		case <-s.done: // died during this invocation, which reports it
		default:
			s.expected.Store(false)
		}
	}()
	if !inv.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.deadline)
		defer cancel()
	}
	started := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(inv.payload))
	if err != nil {
		return outcome{err: newInitError("Runtime.BridgeError", err.Error()), broken: true}
	}
	setInvocationHeaders(req.Header, inv)
	req.Header.Set(bridgeTokenHeader, s.token)

	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := s.client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp, body, err}
	}()

	select {
	case a := <-answers:
		switch {
		case a.err == nil && a.resp.Header.Get(headerErrorType) != "":
			return outcome{err: decodeFunctionError(a.resp.Header.Get(headerErrorType), a.body)}
		case a.err == nil && a.resp.StatusCode == http.StatusOK:
			return outcome{response: a.body}
		case a.err == nil:
			return outcome{err: newInitError("Runtime.BridgeError",
				fmt.Sprintf("RequestId: %s Error: runtime.js answered %d: %s", inv.requestID, a.resp.StatusCode, a.body))}
		case errors.Is(a.err, context.DeadlineExceeded):
			return outcome{err: timeoutError(inv.requestID, inv.deadline.Sub(started).Seconds()), broken: true}
		case ctx.Err() != nil:
			return outcome{err: newInitError("Runtime.Shutdown", "RequestId: "+inv.requestID+" Error: runtime shutting down"), broken: true}
		}
		// The connection failed: Deno is most likely exiting. Give it a moment
		// to say how, then make sure it is gone.
		select {
		case <-s.done:
		case <-time.After(exitWait):
			s.stop(0)
		}
		return outcome{err: exitError(inv.requestID, s.state), broken: true}
	case <-s.done:
		return outcome{err: exitError(inv.requestID, s.state), broken: true}
	}
}

// setInvocationHeaders forwards the Runtime API's per-invocation headers to
// runtime.js, which builds the handler's context from them.
func setInvocationHeaders(h http.Header, inv *invocation) {
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(headerRequestID, inv.requestID)
	set(headerFunctionARN, inv.functionARN)
	set(headerTraceID, inv.traceID)
	set(headerClientContext, inv.clientContext)
	set(headerCognitoIdentity, inv.cognitoIdentity)
	set(headerTenantID, inv.tenantID)
	if !inv.deadline.IsZero() {
		h.Set(headerDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	}
	h.Set("Content-Type", "application/json")
}

// stop ends the Deno process group: SIGTERM first so the function's own
// shutdown listeners can run, SIGKILL after grace.
func (s *denoServer) stop(grace time.Duration) {
	s.expected.Store(true)
	pgid := s.cmd.Process.Pid
	select {
	case <-s.done:
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // children left behind
		return
	default:
	}
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			return
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
}
