// slow_service is the other service that deno task bench's "net" concurrency
// handler calls: an HTTP server on loopback that answers every request after
// 20 ms. Go's timers wake within tens of microseconds, so the wait a handler
// sees is the network's and its own runtime's, not the service's. It prints
// its address on its first line and serves until stdin closes.
//
//	go run bench/slow_service.go
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

const delay = 20 * time.Millisecond

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
}
