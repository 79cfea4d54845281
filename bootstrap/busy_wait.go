package main

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// busyWaitVar sets how long runtime1's bootstrap busy-waits for Deno's answer
// before it sleeps, in microseconds.
const busyWaitVar = "DENO_LAMBDA_BUSY_WAIT_US"

const (
	// defaultBusyWait outlasts runtime.js's answer to a small event with room
	// for a slower machine: on the bench machine, 50 µs gained nothing, 100 µs
	// gained in one A/B run of two, 200 to 500 µs in every run.
	defaultBusyWait = 300 * time.Microsecond
	maxBusyWait     = time.Millisecond
	// busyWaitMinMemoryMB is where Lambda gives a function two vCPUs (1,769 MB
	// is one). Below it the spinning thread would take CPU time from Deno.
	busyWaitMinMemoryMB = 3538
)

// A sleeping thread takes time to wake. On the bench machine, busy-waiting
// for Deno's answer instead of parking in epoll at once takes 0.04 to 0.09 ms
// off a small event's round trip back to back, most of runtime1's warm
// overhead over Deno polling the Runtime API itself. The spin costs CPU time
// while the handler runs, so the bootstrap spins only when the function has a
// second vCPU for it, and only while answers come within the budget: the
// first answer slower than that stops the spinning until one comes quicker.
// An answer awaited asleep also counts its wake-up, which could keep a handler
// just under the budget from ever being spun for again, so every probeEvery-th
// answer awaited asleep is spun for anyway.
//
// While it spins, the bootstrap's one Go thread (GOMAXPROCS=1) runs nothing
// else: its timers and log copying wait, for the budget at most.
//
// busyWaiter holds that policy for one bridge client; nil never spins.
type busyWaiter struct {
	budget  time.Duration // the longest spin
	asked   time.Time     // when await began, for answered
	last    atomic.Int64  // how long the last answer took, in nanoseconds
	skipped atomic.Int32  // answers awaited asleep since the last spin
	spins   atomic.Int64  // how many times it spun, for tests
}

// probeEvery is how often a slow handler is spun for all the same.
const probeEvery = 16

// busyWaitBudget reads DENO_LAMBDA_BUSY_WAIT_US. Unset, the bootstrap spins
// for defaultBusyWait when the function has two vCPUs or more by its memory
// size (or no memory size is set, outside Lambda) and the process may run on
// two CPUs or more; else 0. A value that is not a whole number of microseconds
// from 0 to 1000 is an init failure.
func busyWaitBudget(getenv func(string) string, cpus int) (time.Duration, error) {
	if v := getenv(busyWaitVar); v != "" {
		us, err := strconv.Atoi(v)
		if err != nil || us < 0 || us > int(maxBusyWait/time.Microsecond) {
			return 0, newInitError("Runtime.InvalidBusyWait",
				fmt.Sprintf("%s=%q: expected microseconds from 0 (never) to %d", busyWaitVar, v, maxBusyWait.Microseconds()))
		}
		return time.Duration(us) * time.Microsecond, nil
	}
	if cpus < 2 {
		return 0, nil
	}
	if mb := getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"); mb != "" {
		if n, err := strconv.Atoi(mb); err != nil || n < busyWaitMinMemoryMB {
			return 0, nil
		}
	}
	return defaultBusyWait, nil
}

func newBusyWaiter(budget time.Duration) *busyWaiter {
	if budget <= 0 {
		return nil
	}
	return &busyWaiter{budget: budget}
}

// await returns once the socket has bytes to read, or the budget has passed,
// or at once if the last answer took longer than the budget (but for every
// probeEvery-th time): a slow handler is not worth a spinning CPU. raw may be
// nil: then it only notes the time, for answered.
func (b *busyWaiter) await(raw syscall.RawConn) {
	if b == nil {
		return
	}
	b.asked = time.Now()
	if time.Duration(b.last.Load()) > b.budget && b.skipped.Add(1) < probeEvery {
		return
	}
	b.skipped.Store(0)
	b.spins.Add(1)
	if raw == nil {
		return
	}
	end := b.asked.Add(b.budget)
	raw.Control(func(fd uintptr) {
		for time.Now().Before(end) {
			if n, err := peek(fd); n >= 0 || (err != syscall.EAGAIN && err != syscall.EINTR) {
				// Bytes, the end of the stream, or an error: the read will see
				// it. A reset, though, reads as the end: the peek took its error.
				return
			}
		}
	})
}

// answered records how long the answer took since await: to the whole answer
// read, or its head for a body left to stream.
func (b *busyWaiter) answered() {
	if b != nil {
		b.observe(time.Since(b.asked))
	}
}

// observe records how long an answer took.
func (b *busyWaiter) observe(took time.Duration) {
	if b != nil {
		b.last.Store(int64(took))
	}
}
