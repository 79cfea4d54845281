package main

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMayStartProcesses(t *testing.T) {
	for flags, want := range map[string]bool{
		"":                                    false,
		"--allow-net --allow-env --allow-sys": false,
		"--allow-run":                         true,
		"--allow-run=convert":                 true,
		"--allow-ffi=/opt/lib/x.so":           true,
		"-A":                                  true,
		"--allow-all --deny-run":              true,
		"--deny-run --allow-read":             false,
	} {
		if got := mayStartProcesses(strings.Fields(flags)); got != want {
			t.Errorf("mayStartProcesses(%q) = %v, want %v", flags, got, want)
		}
	}
}

// sleepersOf lists this process's children running sleep with arg.
func sleepersOf(t *testing.T, arg string) []int {
	t.Helper()
	var found []int
	for _, p := range scanProcs() {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/cmdline")
		if p.ppid == os.Getpid() && p.state != 'Z' && strings.Contains(string(cmdline), arg) {
			found = append(found, p.pid)
		}
	}
	return found
}

func TestOrphansComeToTheBootstrapAndAreKilled(t *testing.T) {
	stop := procs.watchOrphans(true, newLogger(io.Discard, false))
	defer stop()
	if !procs.subreaper {
		t.Skip("this kernel refuses PR_SET_CHILD_SUBREAPER")
	}
	// A shell that leaves a setsid'd sleeper and a plain one behind, and exits.
	sh := exec.Command("sh", "-c", "setsid sleep 301.5 & sleep 301.5 & exit 0")
	if err := procs.start(sh); err != nil {
		t.Fatal(err)
	}
	sh.Wait()
	procs.exited(sh.Process.Pid)
	// A sleeper may still be between fork and exec, when /proc shows its
	// command line empty: the two are looked for until they show, or a while.
	got := sleepersOf(t, "301.5")
	for end := time.Now().Add(5 * time.Second); len(got) != 2 && time.Now().Before(end); {
		runtime.Gosched()
		got = sleepersOf(t, "301.5")
	}
	if len(got) != 2 {
		t.Fatalf("got %d orphaned sleepers as children, want 2: %v", len(got), got)
	}
	procs.killOrphans()
	if got := sleepersOf(t, "301.5"); len(got) != 0 {
		t.Errorf("sleepers %v outlived killOrphans", got)
	}
}

func TestKillOrphansSparesDenoProcesses(t *testing.T) {
	stop := procs.watchOrphans(true, newLogger(io.Discard, false))
	defer stop()
	deno := exec.Command("sleep", "302.5") // stands for a Deno process the bootstrap started
	if err := procs.start(deno); err != nil {
		t.Fatal(err)
	}
	defer func() {
		deno.Process.Kill()
		deno.Wait()
		procs.exited(deno.Process.Pid)
	}()
	procs.killOrphans()
	if got := sleepersOf(t, "302.5"); len(got) != 1 {
		t.Errorf("got %v, want the Deno process left alone", got)
	}
}
