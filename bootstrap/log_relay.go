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
// goes out as lines of that size, between which others' lines may come, and
// so does what a process wrote last without ending the line: the next record
// must start a line of its own. The lock is never held while waiting on a
// process, so one that writes half a line and stops cannot hold up the
// others' records.

// relayLine is the longest line relayed whole, CloudWatch's limit on a log
// event. Each pipe reads through relayRead bytes; only a line longer than that
// is gathered, up to relayLine, so a process costs that much only while it
// writes one.
const (
	relayLine = 256 << 10
	relayRead = 32 << 10
)

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

// copy relays src's lines, each in one write.
func (r *relay) copy(src *os.File) {
	defer src.Close()
	br := bufio.NewReaderSize(src, relayRead)
	var long []byte // the start of a line longer than relayRead
	for {
		piece, err := br.ReadSlice('\n')
		whole := err == nil
		switch {
		case whole && len(long) == 0:
			_, _ = r.Write(piece)
		case whole:
			_, _ = r.Write(append(long, piece...))
			long = nil
		default: // a line not ended yet: more of it, or the end of src
			long = append(long, piece...)
			if len(long) > 0 && (len(long) >= relayLine || err != bufio.ErrBufferFull) {
				_, _ = r.Write(append(long, '\n'))
				long = long[:0]
			}
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
