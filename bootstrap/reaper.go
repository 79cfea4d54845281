package main

import (
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Processes a function starts can leave their Deno's process group (setsid)
// or their parent (a double fork), and so escape the signal that ends Deno's
// group. The bootstrap is a child subreaper (PR_SET_CHILD_SUBREAPER): the
// kernel hands it every orphan among its descendants, instead of pid 1. So
// every process that is the bootstrap's child and not a Deno it started is
// something a function left behind: the bootstrap reaps those that exit, and
// kills the rest whenever it discards a Deno process (runtime2 after each
// invocation, runtime1 when Deno is replaced, both at shutdown; under
// Managed Instances, where other invocations' orphans may be running, at
// shutdown only).
//
// What this cannot catch: once the bootstrap itself is killed outright
// (SIGKILL), Deno dies with it (a parent-death signal), but what Deno started
// is handed to pid 1. Lambda discards the whole sandbox then.
//
// Where the kernel (or an emulator: qemu-user 7.2 refuses the prctl) cannot
// make the bootstrap a subreaper, it falls back to what it can see: the
// processes below a Deno it discards, found by their parents just before the
// kill. A process whose parent has already exited is then out of reach.
//
// A function can start processes only with run or FFI permission (or all):
// without them no orphan can exist, and the bootstrap never looks for one,
// which takes reading every process's /proc entry.

// orphanBudget bounds how long killOrphans goes on: each round kills every
// orphan and everything below it, but a process forking as fast as it can
// may keep ahead for a while.
const orphanBudget = time.Second

// processTable knows which of the bootstrap's children are Deno processes.
type processTable struct {
	mu        sync.Mutex
	deno      map[int]bool
	watching  bool // the function may start processes, so orphans are looked for
	subreaper bool // orphans come to the bootstrap
	// shared: invocations run at once (Managed Instances), and an orphan
	// cannot be told to be the discarded process's rather than a running
	// invocation's, so orphans are killed at shutdown only.
	shared atomic.Bool
}

// procs is the bootstrap's one table: being a subreaper is process-wide.
var procs = &processTable{deno: map[int]bool{}}

// mayStartProcesses tells whether Deno permission flags let a function start
// processes: run or FFI permission, or all.
func mayStartProcesses(flags []string) bool {
	for _, f := range flags {
		if f == "-A" || f == "--allow-all" || strings.HasPrefix(f, "--allow-run") || strings.HasPrefix(f, "--allow-ffi") {
			return true
		}
	}
	return false
}

// watchOrphans, when the function may start processes, makes the bootstrap
// their subreaper and reaps every orphan that exits until stop is called. It
// says why when the kernel refuses.
func (t *processTable) watchOrphans(spawns bool, log *logger) (stop func()) {
	if !spawns {
		return func() {}
	}
	const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	if errno != 0 {
		log.errorf("", "Processes the function leaves without a parent are out of reach: the bootstrap cannot be their subreaper: %v", errno)
	}
	t.mu.Lock()
	t.watching, t.subreaper = true, errno == 0
	t.mu.Unlock()
	exits := make(chan os.Signal, 1)
	signal.Notify(exits, syscall.SIGCHLD)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-exits:
				t.reapZombies()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(exits)
		close(done)
	}
}

// below lists the processes below the given ones when the bootstrap is no
// subreaper, for killing once their Deno is gone; nil when it is one, as
// orphans then come to it.
func (t *processTable) below(roots []int) []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.watching || t.subreaper {
		return nil
	}
	return descendants(childrenOf(scanProcs()), roots)
}

// childrenOf maps each process to its children.
func childrenOf(ps []proc) map[int][]int {
	children := map[int][]int{}
	for _, p := range ps {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	return children
}

// descendants lists the processes below roots, not roots themselves.
func descendants(children map[int][]int, roots []int) []int {
	var found []int
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		for _, child := range children[queue[0]] {
			found = append(found, child)
			queue = append(queue, child)
		}
		queue = queue[1:]
	}
	return found
}

// start starts cmd and records it as a Deno process, under the lock, so that
// killOrphans never takes a process being started for an orphan.
func (t *processTable) start(cmd *exec.Cmd) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	t.deno[cmd.Process.Pid] = true
	return nil
}

// exited forgets a Deno process once its exit has been waited for.
func (t *processTable) exited(pid int) {
	t.mu.Lock()
	delete(t.deno, pid)
	t.mu.Unlock()
}

// killOrphans kills every child of the bootstrap that is not a Deno process,
// with everything below it at once (a chain of processes each in a session of
// its own is no deeper for it than one), waits for each, and goes on with
// what that leaves, until none is left.
func (t *processTable) killOrphans() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.watching {
		return
	}
	self := os.Getpid()
	for give := time.Now().Add(orphanBudget); time.Now().Before(give); {
		ps := scanProcs()
		var orphans []int
		for _, p := range ps {
			if p.ppid == self && !t.deno[p.pid] {
				orphans = append(orphans, p.pid)
			}
		}
		if len(orphans) == 0 {
			return
		}
		for _, pid := range append(orphans, descendants(childrenOf(ps), orphans)...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range orphans {
			_, _ = syscall.Wait4(pid, nil, 0, nil)
		}
	}
}

// reapZombies waits for the orphans that have exited, so that they do not
// pile up while Deno lives (runtime1 can live for hours). It leaves running
// ones alone.
func (t *processTable) reapZombies() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, pid := range t.zombies() {
		_, _ = syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
	}
}

// zombies lists the bootstrap's children that are not Deno processes and
// have exited. The caller holds the lock.
func (t *processTable) zombies() []int {
	self := os.Getpid()
	var found []int
	for _, p := range scanProcs() {
		if p.ppid == self && !t.deno[p.pid] && p.state == 'Z' {
			found = append(found, p.pid)
		}
	}
	return found
}

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid int
	state     byte
}

// scanProcs lists the processes /proc shows now.
func scanProcs() []proc {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	var found []proc
	var buf [512]byte // a stat line's fields up to ppid fit: comm is at most 16 bytes
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		fd, err := syscall.Open("/proc/"+name+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue // gone already
		}
		n, err := syscall.Read(fd, buf[:])
		syscall.Close(fd)
		if err != nil || n <= 0 {
			continue
		}
		if state, ppid, ok := parseProcStat(buf[:n]); ok {
			found = append(found, proc{pid, ppid, state})
		}
	}
	return found
}

// parseProcStat reads the state and parent pid from a /proc/<pid>/stat line:
// "pid (comm) state ppid ...". A process names itself (comm), and may put
// spaces and parentheses in its name, so the fields are found after the last
// ')'.
func parseProcStat(stat []byte) (state byte, ppid int, ok bool) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil || ppid < 0 {
		return 0, 0, false
	}
	return fields[0][0], ppid, true
}
