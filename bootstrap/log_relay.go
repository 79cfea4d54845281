package main

import (
	"bufio"
	"os"
	"sync"
)

// Under Managed Instances several Deno processes write log records at once.
// Each writes a record in one write, but a pipe keeps a write whole only up to
// PIPE_BUF (4 KiB), so on a shared stdout two processes' longer records would
// interleave, and neither would parse. Each process then gets pipes of its
// own, which the bootstrap copies line by line: a line of up to relayLine
// bytes goes out in one write, never cut by another process's. A longer line
// goes out in pieces of that size, between which others' lines may come. The
// lock is never held while waiting on a process, so one that writes half a
// line and stops cannot hold up the others' records.

// relayLine is the longest line relayed whole: the buffer each of a process's
// two pipes gets, so it bounds what relaying costs per process too.
const relayLine = 32 << 10

// relay is one destination (the bootstrap's stdout or stderr) shared by the
// processes' pipes.
type relay struct {
	mu  sync.Mutex
	dst *os.File
}

var stdoutRelay, stderrRelay = &relay{dst: os.Stdout}, &relay{dst: os.Stderr}

// pipe returns the write end to give a process, whose lines are relayed until
// every holder of it has closed it. The caller closes its own copy once the
// process has started.
func (r *relay) pipe() (*os.File, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go r.copy(pr)
	return pw, nil
}

func (r *relay) copy(src *os.File) {
	defer src.Close()
	br := bufio.NewReaderSize(src, relayLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			r.mu.Lock()
			_, _ = r.dst.Write(line)
			r.mu.Unlock()
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// relayPipes are a process's stdout and stderr, relayed.
func relayPipes() (stdout, stderr *os.File, err error) {
	if stdout, err = stdoutRelay.pipe(); err != nil {
		return nil, nil, err
	}
	if stderr, err = stderrRelay.pipe(); err != nil {
		stdout.Close()
		return nil, nil, err
	}
	return stdout, stderr, nil
}
