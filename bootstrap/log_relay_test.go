package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// relayInto relays what each write of writes is, in turn, from a pipe of its
// own closed after it, as processes that write and exit one after another; it
// returns what reached the destination.
func relayInto(t *testing.T, writes ...string) string {
	t.Helper()
	dst, err := os.CreateTemp(t.TempDir(), "relayed")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	r := &relay{dst: dst}
	for _, w := range writes {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			io.WriteString(pw, w)
			pw.Close()
		}()
		r.copy(pr) // returns at the pipe's end
	}
	out, err := os.ReadFile(dst.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// A process that ends without finishing its last line, or writes a line longer
// than relayLine, must not glue another process's record to it: under
// Managed Instances that record would no longer parse. A line longer than
// the pipe's read buffer, but within relayLine, still goes out whole.
func TestRelayEndsEveryPieceItWritesWithANewline(t *testing.T) {
	forged := `{"level":"INFO","requestId":"forged","message":"owned"} `
	victim := `{"level":"INFO","requestId":"victim-1","message":"mine"}` + "\n"
	out := relayInto(t, forged, victim)
	if want := strings.TrimSpace(forged) + " \n" + victim; out != want {
		t.Errorf("relayed %q, want %q", out, want)
	}

	record := `{"message":"` + strings.Repeat("e", 40<<10) + `"}` + "\n"
	if out := relayInto(t, record, victim); out != record+victim {
		t.Errorf("a record of %d bytes was not relayed whole", len(record))
	}

	long := strings.Repeat("x", relayLine+10) + "\n"
	out = relayInto(t, long, victim)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || len(lines[0]) != relayLine || lines[1] != "xxxxxxxxxx" || lines[2]+"\n" != victim {
		t.Errorf("relayed lines of %d bytes, want a piece of %d, its rest, then the other record whole",
			len(out), relayLine)
	}
}
