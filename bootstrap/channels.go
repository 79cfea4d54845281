package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Each Deno process talks to the bootstrap over a channel of its own: a
// connection it dials to the bootstrap's loopback port, then proves with a
// token that only it was given (on its stdin, which nothing else can read).
// Nothing names the channel in the file system, so no other process can open
// it, and function code in one process cannot reach another's: it can dial
// the port, but without that process's token the bootstrap hangs up. Every
// line and length read from a channel is bounded: function code runs in the
// process at the other end.

const (
	// tokenBytes is the size of a channel token, before hex encoding.
	tokenBytes = 32
	// handshakeTimeout bounds how long a new connection may take to send its
	// token: runtime.js sends it as soon as it has connected.
	handshakeTimeout = 2 * time.Second
	// maxHandshakes is how many connections may be proving themselves at once,
	// plus one per Deno process that may start at once under Managed
	// Instances (handshakeRoom); past it the oldest is dropped, so idle
	// connections cannot use up the bootstrap's file descriptors or keep a
	// real process out for long.
	maxHandshakes = 16
	// maxLineBytes bounds one line from Deno: a ready line (which may carry an
	// import error's stack) or a frame.
	maxLineBytes = 1 << 20
)

// errLineTooLong is a line from Deno over maxLineBytes.
var errLineTooLong = fmt.Errorf("line over %d bytes", maxLineBytes)

// channel is one Deno process's authenticated connection.
type channel struct {
	conn net.Conn
	r    *bufio.Reader
}

// readLine reads one line, without its newline, of at most maxLineBytes.
func (c *channel) readLine() ([]byte, error) {
	return readBoundedLine(c.r, maxLineBytes)
}

// readBoundedLine reads up to and without the next '\n', refusing lines over max bytes.
func readBoundedLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > max+1 { // +1: the newline
			return nil, errLineTooLong
		}
		line = append(line, frag...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

func (c *channel) close() { c.conn.Close() }

// channelListener accepts the channels of the Deno processes the bootstrap
// starts, on a loopback port, for the life of the execution environment.
type channelListener struct {
	ln   net.Listener
	port int

	maxPending int // connections still handshaking, at most

	mu      sync.Mutex
	waiting map[string]chan *channel // by token: where its channel goes
	pending map[net.Conn]uint64      // connections still handshaking, by arrival
	arrived uint64
}

// listenChannels opens the loopback port that Deno processes dial, with room
// for that many more handshakes at once than on demand.
func listenChannels(room int) (*channelListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for Deno's channels: %w", err)
	}
	l := &channelListener{ln: ln, port: ln.Addr().(*net.TCPAddr).Port,
		waiting: map[string]chan *channel{}, pending: map[net.Conn]uint64{},
		maxPending: maxHandshakes + room}
	go l.serve()
	return l, nil
}

// address is where Deno dials, for the control line and its permissions.
func (l *channelListener) address() string { return "127.0.0.1:" + strconv.Itoa(l.port) }

// secret is a new random value, tokenBytes of it in hex: what a process, or
// runtime1's stream of one invocation, must send to prove it is what the
// bootstrap expects.
func secret() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// expect makes a token for one process and returns where its channel will
// arrive. forget withdraws the token, and closes a channel that arrived but
// was not taken.
func (l *channelListener) expect() (token string, arrived <-chan *channel, forget func(), err error) {
	if token, err = secret(); err != nil {
		return "", nil, nil, fmt.Errorf("channel token: %w", err)
	}
	ch := make(chan *channel, 1)
	l.mu.Lock()
	l.waiting[token] = ch
	l.mu.Unlock()
	return token, ch, func() {
		l.mu.Lock()
		delete(l.waiting, token)
		l.mu.Unlock()
		select {
		case c := <-ch:
			c.close()
		default:
		}
	}, nil
}

// serve accepts connections until the listener closes.
func (l *channelListener) serve() {
	backoff := time.Millisecond
	for {
		conn, err := l.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors, say: give what holds them time to let go.
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = time.Millisecond
		l.admit(conn)
		go l.handshake(conn)
	}
}

// admit counts a new connection in, dropping the oldest still handshaking
// when there are too many.
func (l *channelListener) admit(conn net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) >= l.maxPending {
		var oldest net.Conn
		var at uint64
		for c, n := range l.pending {
			if oldest == nil || n < at {
				oldest, at = c, n
			}
		}
		delete(l.pending, oldest)
		oldest.Close()
	}
	l.arrived++
	l.pending[conn] = l.arrived
}

// handshake reads a connection's token and hands the connection to the
// process it names, or closes it.
func (l *channelListener) handshake(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	// A small buffer for the token: connections that prove nothing cost
	// little, however many come.
	small := bufio.NewReaderSize(conn, 4*tokenBytes)
	line, err := readBoundedLine(small, 2*tokenBytes)
	conn.SetReadDeadline(time.Time{})
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, admitted := l.pending[conn]
	delete(l.pending, conn)
	ch, known := l.waiting[string(line)]
	if err != nil || !admitted || !known {
		conn.Close()
		return
	}
	delete(l.waiting, string(line)) // a token opens one channel, once
	// What followed the token in the small buffer comes first.
	held, _ := small.Peek(small.Buffered())
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(held)), conn), 64<<10)
	ch <- &channel{conn: conn, r: r} // never blocks: room for one, and one is sent
}

// close stops accepting channels; those already open stay.
func (l *channelListener) close() { l.ln.Close() }
