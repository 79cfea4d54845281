package main

// Streamed results (awslambda.streamifyResponse). runtime.js sends what the
// handler writes as frames, on the invocation's stream connection (runtime1)
// or on the channel (runtime2), and the bootstrap passes the data on to the
// Runtime API as it comes. A frame is a kind byte, a 4-byte big-endian length,
// and that many bytes:
//
//	'h'  runtime1's first frame: the invocation's stream nonce, then the
//	     content type, up to maxContentTypeBytes
//	'd'  data to pass on, 1 byte to maxDataFrame
//	'e'  the error the stream ended in: an error body, JSON, up to maxErrorFrame
//	'E'  the same, for an error that escaped the handler: its process is replaced
//	'f'  the stream's end, no bytes
//
// After 'e', 'E' or 'f' comes one more frame, once the handler's promise has
// settled ('s', or 'S' when an error escaped it), with no bytes: as on
// Node.js, the invocation is over only then, though the response is complete
// at its end frame.
//
// The frames come from the function's process and are not trusted: a length
// out of bounds, an unknown kind, or a source that stops before 'e' or 'f' ends
// the stream in an error, sent as the Runtime API's trailers, as is the error
// the handler threw.
//
// The environment's shutdown (SIGTERM) ends the reads at once, instead of at
// the deadline: a stream still going is abandoned with its post, so that, as
// for an answer not posted yet, the invocation gets none, and the wait for a
// handler to settle ends. The processes then get their grace.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

const (
	frameHead           = 'h'
	frameData           = 'd'
	frameError          = 'e'
	frameFatal          = 'E' // an error that escaped the handler: its process must go
	frameEnd            = 'f'
	frameSettled        = 's'
	frameSettledEscaped = 'S'

	maxDataFrame  = 1 << 20
	maxErrorFrame = 256 << 10
)

// defaultStreamType is the content type of a stream whose handler set none,
// as on AWS's Node.js runtime.
const defaultStreamType = "application/octet-stream"

// maxContentTypeBytes bounds the content type a handler sets.
const maxContentTypeBytes = 1 << 10

// streamed is a result the handler streams: its content type, and its body,
// read from runtime.js's frames as the post sends it.
type streamed struct {
	contentType string
	body        *frameReader
}

// errShutdown fails the read of a stream that the environment's shutdown cut
// short: the post is abandoned.
var errShutdown = errors.New("stream abandoned: the runtime is shutting down")

// frameReader reads the data of runtime.js's frames, and keeps how the stream
// ended. It fails only at shutdown (errShutdown): whatever else stops the
// stream early becomes its error, and the read ends.
type frameReader struct {
	src       io.Reader
	requestID string
	left      uint32 // data bytes of the current frame not read yet
	sent      int64
	ended     bool
	framed    bool           // it ended with runtime.js's 'e', 'E' or 'f', after which comes 's' or 'S'
	settled   bool           // 's' came: the source's last byte
	fail      *functionError // the error the stream ended in; nil if it ended well
	// cut is the error of a source that failed before the stream's end
	// (Deno died, the deadline passed); broken, that its process must go.
	cut    func(error) (fe *functionError, broken bool)
	broken bool
	// setDeadline bounds the reads from src: abandonOnShutdown ends them.
	setDeadline func(time.Time) error
	abandoned   atomic.Bool // shutdown came: a read that fails is its doing
	shutdown    bool        // the stream ended because shutdown came
}

// newStreamed reads a stream's frames from src, whose reads setDeadline
// bounds.
func newStreamed(contentType string, src io.Reader, setDeadline func(time.Time) error, requestID string,
	cut func(error) (*functionError, bool)) *streamed {
	if contentType == "" || len(contentType) > maxContentTypeBytes || !httpc.ValidHeaderValue(contentType) {
		contentType = defaultStreamType
	}
	return &streamed{contentType, &frameReader{src: src, setDeadline: setDeadline, requestID: requestID, cut: cut}}
}

// readStreamHead reads the head frame that runtime1's stream connection
// opens with: the nonce the invocation's bridge request carried, then the
// content type. A kept connection serves one invocation after another, and
// the function's code can write on it: the nonce, new for each invocation,
// tells a head written for this one from anything written before its request
// went out. io.EOF: the connection ended first.
func readStreamHead(r io.Reader, nonce string) (string, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", err
	}
	size := binary.BigEndian.Uint32(head[1:])
	if head[0] != frameHead || size < uint32(len(nonce)) || size > uint32(len(nonce))+maxContentTypeBytes {
		return "", fmt.Errorf("its first frame is of kind %q and %d bytes, not a head", head[0], size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", fmt.Errorf("its head stopped short: %w", err)
	}
	if string(body[:len(nonce)]) != nonce {
		return "", errors.New("its head is not this invocation's")
	}
	return string(body[len(nonce):]), nil
}

func (f *frameReader) Read(p []byte) (int, error) {
	for f.left == 0 {
		if f.shutdown {
			return 0, errShutdown
		}
		if f.ended {
			return 0, io.EOF
		}
		f.next()
	}
	if f.sent+int64(f.left) > runtimeapi.MaxStreamedBytes {
		f.end(newInitError("Function.ResponseSizeTooLarge", fmt.Sprintf(
			"RequestId: %s Error: the streamed response exceeded the maximum allowed payload size (%d bytes)",
			f.requestID, runtimeapi.MaxStreamedBytes)), false)
		return 0, io.EOF
	}
	// The rest of a frame is on its way (runtime.js writes a frame whole), so
	// waiting for it costs no latency, and the post gets chunks as large as
	// the handler's writes instead of whatever each read brought.
	n, err := io.ReadFull(f.src, p[:min(len(p), int(f.left))])
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	f.left -= uint32(n)
	f.sent += int64(n)
	if err != nil && (f.left > 0 || err != io.EOF) {
		f.failed(err)
	}
	return n, nil
}

// next reads a frame's head, and an error frame whole.
func (f *frameReader) next() {
	var head [5]byte
	if _, err := io.ReadFull(f.src, head[:]); err != nil {
		f.failed(err)
		return
	}
	size := binary.BigEndian.Uint32(head[1:])
	switch kind := head[0]; {
	case kind == frameData && size > 0 && size <= maxDataFrame:
		f.left = size
	case kind == frameEnd && size == 0:
		f.framed = true
		f.end(nil, false)
	case (kind == frameError || kind == frameFatal) && size <= maxErrorFrame:
		body := make([]byte, size)
		if _, err := io.ReadFull(f.src, body); err != nil {
			f.failed(err)
			return
		}
		f.framed = true
		f.end(decodeFunctionError("Error", body), kind == frameFatal)
	default:
		f.end(newInitError("Runtime.BridgeError", fmt.Sprintf(
			"RequestId: %s Error: runtime.js sent a malformed stream frame (kind %q, %d bytes)", f.requestID, kind, size)), false)
	}
}

// failed ends the stream on its source's failure.
func (f *frameReader) failed(err error) {
	if f.abandoned.Load() {
		f.shutdown = true
		f.end(nil, false)
		return
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	f.end(f.cut(err))
}

func (f *frameReader) end(fe *functionError, broken bool) {
	if !f.ended {
		f.ended, f.fail, f.broken, f.left = true, fe, broken, 0
	}
}

// settle waits, until the source's deadline or shutdown, for runtime.js to
// say that the handler has settled after a stream that ended well or in its
// own error. fe, when the handler had not settled by the deadline or the
// source failed, is for the log: the response is already posted. broken: its
// process must go.
func (f *frameReader) settle() (fe *functionError, broken bool) {
	if !f.framed {
		return nil, f.broken // cut short, or stopped at the limit: nothing more to read
	}
	var head [5]byte
	if _, err := io.ReadFull(f.src, head[:]); err != nil {
		if f.abandoned.Load() {
			return nil, f.broken // the shutdown stops the process, with its grace
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return f.cut(err)
	}
	size := binary.BigEndian.Uint32(head[1:])
	switch {
	case head[0] == frameSettled && size == 0:
		f.settled = true
		return nil, f.broken
	case head[0] == frameSettledEscaped && size == 0:
		return nil, true
	}
	return newInitError("Runtime.BridgeError", fmt.Sprintf(
		"RequestId: %s Error: runtime.js sent a malformed stream frame after the end (kind %q, %d bytes)",
		f.requestID, head[0], size)), true
}

// abandonOnShutdown ends the stream when ctx ends (SIGTERM): the reads from
// its source, which would otherwise wait until the deadline, fail at once.
// stop unhooks it, and returns once a hook that fired is done with the source.
func (f *frameReader) abandonOnShutdown(ctx context.Context) (stop func()) {
	fired := make(chan struct{})
	unhook := context.AfterFunc(ctx, func() {
		defer close(fired)
		f.abandoned.Store(true)
		f.setDeadline(httpc.ALongTimeAgo) // blocked reads return at once
	})
	return func() {
		if !unhook() {
			<-fired
		}
	}
}

// trailer is the post's trailers: the error, if the stream ended in one.
func (f *frameReader) trailer() []httpc.Field {
	if f.fail == nil {
		return nil
	}
	return runtimeapi.StreamError(f.fail)
}
