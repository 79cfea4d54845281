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
// goes out as lines of that size, between which others' lines may come. The
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

// copy relays src's lines, each in one write. A piece that is not a whole line
// (the start of a line longer than relayLine, or what a process wrote last
// without ending it) goes out as a line of its own: the next process's record
// must start a line, or it would no longer parse.
func (r *relay) copy(src *os.File) {
	defer src.Close()
	br := bufio.NewReaderSize(src, relayLine)
	var piece []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && line[len(line)-1] != '\n' {
			piece = append(append(piece[:0], line...), '\n')
			line = piece
		}
		if len(line) > 0 {
			_, _ = r.Write(line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// Write writes p to the destination in one write, between the lines relayed:
// the bootstrap's own records go this way too.
func (r *relay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dst.Write(p)
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
