package httpc

// Chunked bodies (RFC 9112, section 7.1), decoded as they are read.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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
