package runtimeapi

import (
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"testing"
	"unicode/utf8"
)

func FuzzHeaderSafe(f *testing.F) {
	for _, v := range []string{"Runtime.UserCodeSyntaxError", "Error\r\nInjected: yes", "Tab\tType", "\x00\x1f\x7f",
		"Ünïcödé", "\xff\xfe", "\u2028", "", "a b"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := headerSafe(v)
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] >= 0x7f {
				t.Fatalf("headerSafe(%q) = %q, with byte %#x at %d", v, got, got[i], i)
			}
		}
		// What the client then refuses to send, it never gets.
		if !httpc.ValidHeaderValue(got) {
			t.Errorf("headerSafe(%q) = %q, which the client refuses", v, got)
		}
		// At most a header's length; one character for each of the first
		// maxErrorTypeBytes bytes' characters (invalid bytes count one each),
		// printable ASCII kept.
		if len(got) > MaxErrorTypeBytes {
			t.Errorf("headerSafe(%q) = %d bytes, over %d", v, len(got), MaxErrorTypeBytes)
		}
		kept := truncateUTF8(v, MaxErrorTypeBytes)
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(kept) {
			t.Errorf("headerSafe(%q) = %q, %d characters for %d", v, got, utf8.RuneCountInString(got),
				utf8.RuneCountInString(kept))
		}
		if again := headerSafe(got); again != got {
			t.Errorf("headerSafe(%q) = %q, but headerSafe of that = %q", v, got, again)
		}
		printable := true
		for i := 0; i < len(v); i++ {
			printable = printable && v[i] >= 0x20 && v[i] < 0x7f
		}
		if printable && got != kept {
			t.Errorf("headerSafe(%q) = %q, want it unchanged", v, got)
		}
	})
}
