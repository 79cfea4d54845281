package httpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func take(t *testing.T, r *Buffer, n int) []byte {
	t.Helper()
	b, err := r.Take(context.Background(), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReusedBuffer(t *testing.T) {
	var r Buffer
	a := take(t, &r, 100<<10)
	if len(a) != 100<<10 {
		t.Fatalf("take gave %d bytes", len(a))
	}
	r.Give(a)
	if b := take(t, &r, 80<<10); &b[0] != &a[0] || len(b) != 80<<10 {
		t.Error("a buffer large enough was not reused")
	}
	if b := take(t, &r, 80<<10); &b[0] == &a[0] {
		t.Error("one buffer was handed out twice")
	}
	r.Give(a)
	if b := take(t, &r, 200<<10); &b[0] == &a[0] || len(b) != 200<<10 {
		t.Error("a buffer too small was handed out")
	}
	small := take(t, &r, 100)
	r.Give(small)
	if b := take(t, &r, 80<<10); &b[0] != &a[0] {
		t.Error("a small body took or replaced the kept buffer")
	}
	var none *Buffer
	none.Give(a)
	if b := take(t, none, 100<<10); len(b) != 100<<10 {
		t.Error("a nil reusedBuffer must allocate")
	}
}

func TestLimitedBufferWaitsForRoom(t *testing.T) {
	var r Buffer
	waited := make(chan int64, 1)
	r.Limit(2*MaxBodyBytes, func(n, limit int64) {
		if limit != 2*MaxBodyBytes {
			t.Errorf("told of a limit of %d", limit)
		}
		waited <- n
	})
	a := take(t, &r, MaxBodyBytes)
	b := take(t, &r, MaxBodyBytes-reusedMin)
	for i := 0; i < 100; i++ { // small bodies are never charged
		take(t, &r, reusedMin-1)
	}
	select {
	case n := <-waited:
		t.Fatalf("a body of %d bytes waited with room left", n)
	default:
	}

	// Full: a take waits until ctx ends, and then holds nothing.
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("the invocation's deadline")
	got := make(chan error, 1)
	go func() {
		_, err := r.Take(ctx, 2*reusedMin, nil)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a take past the room went through: %v", err)
	case n := <-waited:
		if n != 2*reusedMin {
			t.Errorf("told of a wait for %d bytes", n)
		}
	}
	cancel(cause)
	if err := <-got; !errors.Is(err, cause) {
		t.Fatalf("a take cut short by its context failed with %v", err)
	}

	// A body given back makes room for the next, which gets its buffer.
	done := make(chan []byte)
	go func() {
		c, _ := r.Take(context.Background(), MaxBodyBytes, nil)
		done <- c
	}()
	r.Give(a)
	if c := <-done; &c[0] != &a[0] {
		t.Error("the body given back was not reused")
	}
	r.Give(b)
	if !r.room.TryAcquire(MaxBodyBytes - reusedMin) {
		t.Error("the room given back was not freed")
	}
}

func TestLimitedBufferChargesBodiesOfUnknownLength(t *testing.T) {
	var r Buffer
	r.Limit(MaxBodyBytes, nil)
	body, err := r.held(context.Background(), nil, func() ([]byte, error) { return make([]byte, 3*reusedMin), nil })
	if err != nil || len(body) != 3*reusedMin {
		t.Fatalf("held read %d bytes: %v", len(body), err)
	}
	if !r.room.TryAcquire(MaxBodyBytes - 3*reusedMin) {
		t.Fatal("more was held than the body read")
	}
	if r.room.TryAcquire(1) {
		t.Fatal("the body read was not held")
	}
	r.room.Release(MaxBodyBytes - 3*reusedMin)
	r.Give(body)
	if _, err := r.held(context.Background(), nil, func() ([]byte, error) { return nil, errors.New("cut") }); err == nil {
		t.Fatal("a failed read succeeded")
	}
	if !r.room.TryAcquire(MaxBodyBytes) {
		t.Error("room was left held after a give and a failed read")
	}
}

// A body read whole just as its request is cancelled is dropped, and its room
// must be given back with it: else each such answer shrinks the room for good.
func TestCancelledAnswerGivesItsRoomBack(t *testing.T) {
	body := strings.Repeat("x", 100<<10)
	addr, _ := rawServer(t, func(int, *http.Request, string) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	})
	c := NewClient(addr)
	c.Bodies.Limit(MaxBodyBytes, nil)
	for i := 0; i < 200; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		// Cancelled once the headers are in: the body is read, or not,
		// while the cancellation takes hold.
		req := &Request{Method: "POST", Path: "/", BodyDeadline: func(*Response) time.Time {
			cancel()
			return time.Time{}
		}}
		if resp, err := c.Do(ctx, req); err == nil {
			c.Bodies.Give(resp.Body)
		}
		if !c.Bodies.room.TryAcquire(MaxBodyBytes) {
			t.Fatalf("request %d, cancelled, left its body's room taken", i)
		}
		c.Bodies.room.Release(MaxBodyBytes)
	}
}

// A body charged to a bounded room that does not come within BodyGrace of its
// room fails as held back, and its room goes to the others; the invocation's
// own deadline, when sooner, stays a timeout.
func TestBodyHeldBackGivesItsRoomUp(t *testing.T) {
	defer func(g time.Duration) { BodyGrace = g }(BodyGrace)
	BodyGrace = 50 * time.Millisecond
	r := &Buffer{}
	r.Limit(MaxBodyBytes, nil)
	read := func(ctx context.Context) error {
		client, server := net.Pipe()
		defer client.Close()
		defer server.Close()
		if d, ok := ctx.Deadline(); ok {
			client.SetReadDeadline(d) // as the bridge bounds its answers by the invocation's deadline
		}
		go server.Write(make([]byte, 10)) // the start of the body, and no more
		_, err := readN(ctx, client, client, MaxBodyBytes, r)
		return err
	}
	var held *HeldBackError
	if err := read(context.Background()); !errors.As(err, &held) || held.Size != MaxBodyBytes {
		t.Fatalf("read = %v, want a body held back", err)
	}
	if !r.room.TryAcquire(MaxBodyBytes) { // the whole room is free again
		t.Fatal("the held-back body kept its room")
	}
	r.room.Release(MaxBodyBytes)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := read(ctx); errors.As(err, &held) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the invocation's deadline = %v, want its deadline, not held back", err)
	}
	var unbounded *Buffer // no room: no grace, and nothing is called held back
	if err := unbounded.HeldBack(context.Background(), os.ErrDeadlineExceeded, MaxBodyBytes); err != os.ErrDeadlineExceeded {
		t.Errorf("HeldBack without a room = %v", err)
	}
}
