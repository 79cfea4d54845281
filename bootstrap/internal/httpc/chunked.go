package httpc

// Chunked bodies (RFC 9112, section 7.1), both ways. The bridge's answer for a
// streamed result comes chunked, and is read as it arrives; a streamed result
// goes to the Runtime API chunked, with trailers that say whether it ended in
// an error.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// chunkedReader decodes a chunked body as it is read; trailers are read and
// discarded. Every line is bounded: the peer is not trusted.
type chunkedReader struct {
	r    *bufio.Reader
	left uint64 // bytes of the current chunk not read yet
	done bool   // the last chunk and the trailers are read
	err  error
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		if c.err = c.nextChunk(); c.err != nil {
			return 0, c.err
		}
	}
	n, err := c.r.Read(p[:min(uint64(len(p)), c.left)])
	c.left -= uint64(n)
	if err == io.EOF && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && c.left == 0 {
		lineBudget := 2
		if line, lerr := readLine(c.r, &lineBudget); lerr != nil || line != "" {
			err = errors.New("chunk not followed by CRLF")
		}
	}
	c.err = err
	return n, err
}

// nextChunk reads a chunk's size line; after the last chunk, the trailers,
// and then it returns io.EOF.
func (c *chunkedReader) nextChunk() error {
	lineBudget := maxChunkLine
	line, err := readLine(c.r, &lineBudget)
	if err != nil {
		return noEOF(err)
	}
	sizeText, _, _ := strings.Cut(line, ";")
	size, err := strconv.ParseUint(strings.TrimSpace(sizeText), 16, 63)
	if err != nil {
		return fmt.Errorf("bad chunk size %q", truncate(line, 64))
	}
	if size > 0 {
		c.left = size
		return nil
	}
	budget := maxHeaderBytes
	for { // trailers, up to the blank line
		line, err := readLine(c.r, &budget)
		if err != nil {
			return noEOF(err)
		}
		if line == "" {
			c.done = true
			return io.EOF
		}
	}
}

// noEOF: a body that ends before its last chunk is cut off, not complete.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readChunked reads a chunked body of at most MaxBodyBytes.
func readChunked(r *bufio.Reader) ([]byte, error) { return readChunks(&chunkedReader{r: r}) }

// readChunks reads the rest of a chunked body, at most MaxBodyBytes.
func readChunks(c *chunkedReader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c, MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxBodyBytes {
		return nil, &TooLargeError{-1}
	}
	return body, nil
}

// chunkPiece is the most one chunk of a request carries: what one read of the
// source gave, so a slow source's bytes leave as they come.
const chunkPiece = 64 << 10

// sendChunks writes head, then src's bytes as chunks as they arrive, then the
// last chunk with trailer's fields. Each write waits for dst to take the last
// one, so a slow peer slows the reads from src. sent tells whether any byte
// went out.
func sendChunks(head []byte, src io.Reader, trailer func() []Field, dst net.Conn) (sent bool, err error) {
	if _, err := dst.Write(head); err != nil {
		return false, err
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for {
		n, rerr := src.Read((*buf)[:chunkPiece])
		if n > 0 {
			size := strconv.AppendUint(make([]byte, 0, 18), uint64(n), 16)
			size = append(size, "\r\n"...)
			bufs := net.Buffers{size, (*buf)[:n], []byte("\r\n")}
			if _, err := bufs.WriteTo(dst); err != nil {
				return true, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return true, &CutError{Read: -1, Size: -1, err: rerr}
		}
	}
	end := []byte("0\r\n")
	if trailer != nil {
		for _, f := range trailer() {
			if !ValidHeaderValue(f.Value) {
				// Abandoned: without its last chunk, no answer is due.
				return true, &CutError{Read: -1, Size: -1, err: fmt.Errorf("trailer %s has a line break or control character", f.Name)}
			}
			end = append(end, f.Name+": "+f.Value+"\r\n"...)
		}
	}
	_, err = dst.Write(append(end, "\r\n"...))
	return true, err
}
