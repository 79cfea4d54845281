package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// pipeConn is a stream connection over an in-memory pipe, and its far end.
func pipeConn(token string) (*streamConn, net.Conn) {
	near, far := net.Pipe()
	return &streamConn{token: token, ch: &channel{conn: near, r: bufio.NewReader(near)}}, far
}

// closedAtFarEnd tells whether the near end of far's pipe was closed.
func closedAtFarEnd(far net.Conn) bool {
	_, err := far.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}

func TestStreamConnectionsKeptForLaterInvocations(t *testing.T) {
	channels, err := listenChannels(0)
	if err != nil {
		t.Fatal(err)
	}
	defer channels.close()
	s := &bridgedDeno{denoProcess: &denoProcess{done: make(chan struct{})}, channels: channels, maxStreams: 1}
	inv := &runtimeapi.Invocation{RequestID: "req-1"}

	fresh, forget, fe := s.streamFor(inv)
	if fe != nil || fresh.ch != nil || fresh.arrived == nil || len(fresh.token) != 2*tokenBytes {
		t.Fatalf("with none kept, got %+v, %v; want a new token to dial with", fresh, fe)
	}
	forget()

	first, firstFar := pipeConn("first")
	second, secondFar := pipeConn("second")
	s.keep(first)
	s.keep(second) // past maxStreams: closed, not kept
	if !closedAtFarEnd(secondFar) {
		t.Error("a connection past the bound was kept")
	}
	if got, _, _ := s.streamFor(inv); got != first {
		t.Fatalf("got %+v, want the kept connection", got)
	}
	if got, _, _ := s.streamFor(inv); got.ch != nil {
		t.Fatal("a kept connection was handed out twice")
	}

	close(s.done) // the process is gone: nothing of it is kept
	s.keep(first)
	if !closedAtFarEnd(firstFar) {
		t.Error("a connection to a process that exited was kept")
	}
	third, thirdFar := pipeConn("third")
	s.done = make(chan struct{})
	s.keep(third)
	s.closeIdle()
	if !closedAtFarEnd(thirdFar) {
		t.Error("closeIdle left a kept connection open")
	}
}

func TestAStreamConnectionWithBytesPastItsEndIsNotKept(t *testing.T) {
	s := &bridgedDeno{denoProcess: &denoProcess{done: make(chan struct{})}, maxStreams: 1}
	near, far := net.Pipe()
	// Bytes after the last frame, already read into the connection's buffer:
	// runtime.js writes nothing there, so the function's code did.
	r := bufio.NewReader(io.MultiReader(strings.NewReader(frame('h', "text/forged")), near))
	if _, err := r.Peek(1); err != nil {
		t.Fatal(err)
	}
	s.keep(&streamConn{token: "t", ch: &channel{conn: near, r: r}})
	if !closedAtFarEnd(far) || len(s.idle) != 0 {
		t.Error("a connection with bytes past its end was kept")
	}
}
