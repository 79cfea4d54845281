package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestBusyWaitBudget(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		cpus   int
		budget time.Duration
		bad    bool
	}{
		{"outside Lambda, two CPUs", nil, 2, defaultBusyWait, false},
		{"one CPU", nil, 1, 0, false},
		{"under two vCPUs by memory", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"}, 2, 0, false},
		{"two vCPUs by memory", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3538"}, 2, defaultBusyWait, false},
		{"two vCPUs by memory, one CPU to run on", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, 1, 0, false},
		{"unreadable memory", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, 2, 0, false},
		{"off", map[string]string{busyWaitVar: "0"}, 2, 0, false},
		{"set, whatever the CPUs", map[string]string{busyWaitVar: "250", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 1, 250 * time.Microsecond, false},
		{"the most", map[string]string{busyWaitVar: "1000"}, 2, time.Millisecond, false},
		{"too long", map[string]string{busyWaitVar: "1001"}, 2, 0, true},
		{"negative", map[string]string{busyWaitVar: "-1"}, 2, 0, true},
		{"not a number", map[string]string{busyWaitVar: "100us"}, 2, 0, true},
		{"long enough to wrap around as a duration", map[string]string{busyWaitVar: "18446744073709552"}, 2, 0, true},
		{"long enough to turn negative as a duration", map[string]string{busyWaitVar: "9223372036854776"}, 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			budget, err := busyWaitBudget(func(k string) string { return tt.env[k] }, tt.cpus)
			if tt.bad {
				var fe *functionError
				if !errors.As(err, &fe) || fe.Type != "Runtime.InvalidBusyWait" {
					t.Fatalf("got %v, want Runtime.InvalidBusyWait", err)
				}
				return
			}
			if err != nil || budget != tt.budget {
				t.Fatalf("got %v, %v, want %v", budget, err, tt.budget)
			}
		})
	}
}

// loopbackPair returns both ends of a TCP connection on loopback.
func loopbackPair(t *testing.T) (near, far net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	near, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	far = <-accepted
	if far == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { near.Close(); far.Close() })
	return near, far
}

// rawOf returns conn's socket, as httpClient keeps it for await.
func rawOf(t *testing.T, conn net.Conn) syscall.RawConn {
	t.Helper()
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// awaitWithin runs b.await on conn and fails the test unless it returns before
// limit, which is far below b's budget.
func awaitWithin(t *testing.T, b *busyWaiter, conn net.Conn, limit time.Duration) {
	t.Helper()
	raw := rawOf(t, conn)
	returned := make(chan struct{})
	go func() {
		b.await(raw)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(limit):
		t.Fatalf("await still spinning after %v with a budget of %v", limit, b.budget)
	}
}

func TestBusyWaitReturnsWhenTheAnswerComesAndLeavesItToRead(t *testing.T) {
	near, far := loopbackPair(t)
	b := newBusyWaiter(20 * time.Second)
	go far.Write([]byte("answer"))
	awaitWithin(t, b, near, 5*time.Second)
	got := make([]byte, 6)
	if _, err := io.ReadFull(near, got); err != nil || string(got) != "answer" {
		t.Fatalf("read %q, %v after await; want the whole answer", got, err)
	}
}

func TestBusyWaitReturnsWhenThePeerHangsUp(t *testing.T) {
	near, far := loopbackPair(t)
	far.Close()
	awaitWithin(t, newBusyWaiter(20*time.Second), near, 5*time.Second)
}

func TestBusyWaitSpinsItsBudgetWhenNothingComes(t *testing.T) {
	near, _ := loopbackPair(t)
	b := newBusyWaiter(20 * time.Millisecond)
	started := time.Now()
	awaitWithin(t, b, near, 5*time.Second)
	if spun := time.Since(started); spun < b.budget {
		t.Fatalf("await returned after %v with nothing to read; the budget is %v", spun, b.budget)
	}
}

func TestBusyWaitSkipsTheSpinAfterASlowAnswerButProbes(t *testing.T) {
	near, far := loopbackPair(t)
	far.Write([]byte("x")) // always something to read: a spin ends at once
	b := newBusyWaiter(time.Millisecond)
	b.await(rawOf(t, near))
	if b.spins.Load() != 1 {
		t.Fatalf("spins = %d before any answer was timed, want 1", b.spins.Load())
	}
	b.observe(time.Second)
	for i := 1; i < probeEvery; i++ {
		b.await(rawOf(t, near))
	}
	if b.spins.Load() != 1 {
		t.Fatalf("spins = %d after %d awaits following a slow answer, want none of them spun", b.spins.Load(), probeEvery-1)
	}
	b.await(rawOf(t, near))
	if b.spins.Load() != 2 {
		t.Fatalf("spins = %d, want the %d-th await after a slow answer to spin", b.spins.Load(), probeEvery)
	}
	b.observe(100 * time.Microsecond)
	b.await(rawOf(t, near))
	if b.spins.Load() != 3 {
		t.Fatalf("spins = %d, want a spin again after a quick answer", b.spins.Load())
	}
}

func TestBusyWaitOffIsANoOp(t *testing.T) {
	if newBusyWaiter(0) != nil {
		t.Fatal("a zero budget should give no busyWaiter")
	}
	near, _ := loopbackPair(t)
	var b *busyWaiter
	awaitWithin(t, b, near, 10*time.Second)
	b.observe(time.Second)
}

func TestHTTPClientWithBusyWaitSpinsAndRecordsEachAnswer(t *testing.T) {
	addr, _ := rawServer(t, func(n int, req *http.Request, body string) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong"
	})
	c := newHTTPClient(addr)
	c.busy = newBusyWaiter(time.Second)
	post := func() {
		t.Helper()
		c.busy.last.Store(-1)
		resp, err := c.do(context.Background(), &httpRequest{method: "POST", path: "/invoke", body: []byte("ping")})
		if err != nil || string(resp.body) != "pong" {
			t.Fatalf("%v, %v", resp, err)
		}
		if c.busy.last.Load() <= 0 {
			t.Fatal("the answer's time was not recorded")
		}
	}
	for i := 1; i <= 3; i++ {
		post()
		if c.busy.spins.Load() != int64(i) {
			t.Fatalf("spins = %d after %d requests answered at once, want one each", c.busy.spins.Load(), i)
		}
	}
	c.busy.last.Store(int64(time.Minute)) // as if the last answer had been slow
	resp, err := c.do(context.Background(), &httpRequest{method: "POST", path: "/invoke", body: []byte("ping")})
	if err != nil || string(resp.body) != "pong" || c.busy.spins.Load() != 3 {
		t.Fatalf("after a slow answer: %v, %v, spins = %d, want 3 (no spin)", resp, err, c.busy.spins.Load())
	}
	if c.busy.last.Load() >= int64(time.Minute) {
		t.Fatal("the quick answer awaited asleep was not recorded")
	}
}
