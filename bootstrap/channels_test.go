package main

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// dial connects to the listener and sends what, returning the connection.
func dial(t *testing.T, l *channelListener, what string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.address())
	if err != nil {
		t.Fatal(err)
	}
	if what != "" {
		if _, err := io.WriteString(c, what); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// hungUp tells whether the peer closed c: a read gets EOF or a reset.
func hungUp(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// listening starts a listener for the test, and expects one process's token.
func listening(t *testing.T) (l *channelListener, token string, arrived <-chan *channel) {
	t.Helper()
	l, err := listenChannels(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	token, arrived, forget, err := l.expect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(forget)
	return l, token, arrived
}

func TestAChannelIsHandedToTheProcessWhoseTokenItGives(t *testing.T) {
	l, token, arrived := listening(t)
	c := dial(t, l, token+"\n{\"port\":1}\n")
	defer c.Close()
	ch := <-arrived
	defer ch.close()
	line, err := ch.readLine()
	if err != nil || string(line) != `{"port":1}` {
		t.Errorf("got %q, %v; want the line sent after the token", line, err)
	}
	// A token opens one channel, once.
	again := dial(t, l, token+"\n")
	defer again.Close()
	if !hungUp(again) {
		t.Error("a second connection with the same token was kept")
	}
}

func TestConnectionsWithoutAKnownTokenAreDropped(t *testing.T) {
	l, _, arrived := listening(t)
	for _, what := range []string{"not a token\n", "0000000000000000000000000000000000000000000000000000000000000000\n",
		string(make([]byte, 70000))} {
		c := dial(t, l, what)
		if !hungUp(c) {
			t.Errorf("a connection sending %.20q was kept", what)
		}
		c.Close()
	}
	select {
	case ch := <-arrived:
		t.Errorf("a channel was handed over: %v", ch)
	default:
	}
}

func TestIdleConnectionsCannotCrowdOutAProcess(t *testing.T) {
	l, token, arrived := listening(t)
	first := dial(t, l, "")
	defer first.Close()
	for range maxHandshakes {
		c := dial(t, l, "")
		defer c.Close()
	}
	if !hungUp(first) {
		t.Error("the oldest idle connection was kept past the limit")
	}
	c := dial(t, l, token+"\n")
	defer c.Close()
	select {
	case ch := <-arrived:
		ch.close()
	case <-time.After(5 * time.Second):
		t.Error("a process's channel was not handed over while idle connections waited")
	}
}
