package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// procStatStates are the states the kernel writes in /proc/<pid>/stat.
const procStatStates = "RSDZTtXxKWPI"

func FuzzParseProcStat(f *testing.F) {
	for _, comm := range []string{"deno", "bootstrap", "x) Z 1 2", "a b", ")", "((", ") R 0 (", "x\ny",
		"\xff\xfe", "               ", "sixteen bytes!!!"} {
		f.Add([]byte(nil), int32(42), []byte(comm), uint8(1), int32(7))
	}
	for _, stat := range []string{"1 (init) S 0 1 1 0", "42 (x) Z 1 2) R 3 4", "42 (x)", "42 (x) S", "42 (x) SS 1",
		"42 (x) S -1", "42 (x) S +7", "42 (x) S 99999999999999999999", "42 x S 7", "", ")"} {
		f.Add([]byte(stat), int32(1), []byte(nil), uint8(0), int32(0))
	}
	f.Fuzz(func(t *testing.T, stat []byte, pid int32, comm []byte, state uint8, ppid int32) {
		// Any bytes: either nothing, or a one-byte state and a pid.
		if s, p, ok := parseProcStat(stat); ok && (p < 0 || strings.IndexByte(" \t\n\v\f\r", s) >= 0) {
			t.Errorf("parseProcStat(%q) = %q, %d, want a state that is not a space and a pid from 0", stat, s, p)
		}

		// A line as the kernel writes it, whatever name the process gave itself:
		// up to 16 bytes, any but NUL.
		comm = bytes.ReplaceAll(comm, []byte{0}, nil)
		comm = comm[:min(len(comm), 16)]
		wantState := procStatStates[int(state)%len(procStatStates)]
		wantPPID := nonNegative(int(ppid))
		line := fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 102 0 0 0 0 0 0 0 20 0 1 0 12345 1000000 200 "+
			"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			nonNegative(int(pid)), comm, wantState, wantPPID, nonNegative(int(pid)), nonNegative(int(pid)))
		if s, p, ok := parseProcStat([]byte(line)); !ok || s != wantState || p != wantPPID {
			t.Errorf("parseProcStat(%q) = %q, %d, %v, want %q, %d, true", line, s, p, ok, wantState, wantPPID)
		}
	})
}

func nonNegative(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
