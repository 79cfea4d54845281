// pipe_rtt measures the floor under runtime1's warm latency: one round trip of
// a 100-byte and a 1.1 MB message from a Go process to a Deno process and back
// over pipes, as the bootstrap and runtime.js exchange an event and its
// result, with one Go P as the bootstrap runs. Run it after deno task build (or deno task bench):
//
//	go run bench/pipe_rtt.go
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

const echo = `const buf = new Uint8Array(65536);
for (;;) {
  const n = await Deno.stdin.read(buf);
  if (n === null) break;
  Deno.stdout.writeSync(buf.subarray(0, n));
}
`

func main() {
	runtime.GOMAXPROCS(1)
	dir, err := os.MkdirTemp("", "pipe-rtt-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "echo.js")
	if err := os.WriteFile(script, []byte(echo), 0o644); err != nil {
		panic(err)
	}
	cmd := exec.Command("dist/bench/runtime1/bin/deno", "run", "--no-config", script)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "run deno task bench first:", err)
		os.Exit(1)
	}
	defer cmd.Process.Kill()
	r := bufio.NewReader(out)
	roundTrip := func(msg []byte) float64 {
		t := time.Now()
		go in.Write(msg) // a large message fills the pipe before the echo drains it
		if _, err := io.ReadFull(r, make([]byte, len(msg))); err != nil {
			panic(err)
		}
		return float64(time.Since(t).Microseconds()) / 1000
	}
	for _, size := range []int{100, 1_100_000} {
		msg := []byte(strings.Repeat("x", size))
		for i := 0; i < 50; i++ {
			roundTrip(msg) // warm-up
		}
		var backToBack, idle []float64
		for i := 0; i < 300; i++ {
			backToBack = append(backToBack, roundTrip(msg))
		}
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			idle = append(idle, roundTrip(msg))
		}
		fmt.Printf("Go -> Deno -> Go over pipes, %d B: p50 %.3f ms back to back, %.3f ms after 100 ms idle\n",
			size, median(backToBack), median(idle))
	}
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}
