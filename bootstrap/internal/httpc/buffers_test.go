package httpc

import "testing"

func TestReusedBuffer(t *testing.T) {
	var r Buffer
	a := r.Take(100 << 10)
	if len(a) != 100<<10 {
		t.Fatalf("take gave %d bytes", len(a))
	}
	r.Give(a)
	if b := r.Take(80 << 10); &b[0] != &a[0] || len(b) != 80<<10 {
		t.Error("a buffer large enough was not reused")
	}
	if b := r.Take(80 << 10); &b[0] == &a[0] {
		t.Error("one buffer was handed out twice")
	}
	r.Give(a)
	if b := r.Take(200 << 10); &b[0] == &a[0] || len(b) != 200<<10 {
		t.Error("a buffer too small was handed out")
	}
	small := r.Take(100)
	r.Give(small)
	if b := r.Take(80 << 10); &b[0] != &a[0] {
		t.Error("a small body took or replaced the kept buffer")
	}
	var none *Buffer
	none.Give(a)
	if b := none.Take(100 << 10); len(b) != 100<<10 {
		t.Error("a nil reusedBuffer must allocate")
	}
}
