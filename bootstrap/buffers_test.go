package main

import "testing"

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
