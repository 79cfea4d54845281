package main

import (
	"runtime/debug"
	"testing"
)

func TestReusedBuffer(t *testing.T) {
	var r reusedBuffer
	a := r.take(100 << 10)
	if len(a) != 100<<10 {
		t.Fatalf("take gave %d bytes", len(a))
	}
	r.give(a)
	if b := r.take(80 << 10); &b[0] != &a[0] || len(b) != 80<<10 {
		t.Error("a buffer large enough was not reused")
	}
	if b := r.take(80 << 10); &b[0] == &a[0] {
		t.Error("one buffer was handed out twice")
	}
	r.give(a)
	if b := r.take(200 << 10); &b[0] == &a[0] || len(b) != 200<<10 {
		t.Error("a buffer too small was handed out")
	}
	small := r.take(100)
	r.give(small)
	if b := r.take(80 << 10); &b[0] != &a[0] {
		t.Error("a small body took or replaced the kept buffer")
	}
	var none *reusedBuffer
	none.give(a)
	if b := none.take(100 << 10); len(b) != 100<<10 {
		t.Error("a nil reusedBuffer must allocate")
	}
}

func TestMemoryLimitGrowsWithTheLargestBody(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	memoryLimit.Lock()
	on, largest := memoryLimit.on, memoryLimit.largest
	memoryLimit.Unlock()
	defer func() {
		debug.SetMemoryLimit(before)
		memoryLimit.Lock()
		memoryLimit.on, memoryLimit.largest = on, largest
		memoryLimit.Unlock()
	}()
	memoryLimit.on, memoryLimit.largest = false, 0

	roomForBody(1 << 20)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("the limit changed to %d while off", got)
	}
	limitMemory()
	if got := debug.SetMemoryLimit(-1); got != memoryLimitBase+4<<20 {
		t.Errorf("limit = %d, want base + 4 MiB for the 1 MiB body seen", got)
	}
	var r reusedBuffer
	r.take(3 << 20)
	if got := debug.SetMemoryLimit(-1); got != memoryLimitBase+12<<20 {
		t.Errorf("limit = %d after a 3 MiB body, want base + 12 MiB", got)
	}
	r.take(2 << 20)
	if got := debug.SetMemoryLimit(-1); got != memoryLimitBase+12<<20 {
		t.Errorf("limit = %d: a smaller body lowered it", got)
	}
}
