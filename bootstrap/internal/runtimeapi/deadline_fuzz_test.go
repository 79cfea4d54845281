package runtimeapi

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzParseDeadline(f *testing.F) {
	const now = int64(1_700_000_000_000) // a plausible clock, in ms
	for _, header := range []string{"1700000003000", "1700000000000", "1700000000001", "1700000960000",
		"1700000960001", "1699999999999", "0", "-1", "+1700000003000", " 1700000003000", "1700000003000\r\n",
		"1.7e12", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "", "\x00",
		strings.Repeat("\x7f", 100)} {
		f.Add(header, now, int64(3000))
	}
	window := (maxFunctionTimeout + deadlineSlack).Milliseconds()
	for _, offset := range []int64{0, 1, window, window + 1, -1, math.MaxInt64, math.MinInt64} {
		f.Add("", now, offset)
	}
	f.Add("1", int64(math.MaxInt64), int64(1))
	f.Add("1", int64(math.MinInt64), int64(-1))
	// The longest problem: a 64-byte excerpt that %q writes with 4 bytes for
	// each of its bytes.
	maxProblem := len(HeaderDeadlineMs) + len(` "`+strings.Repeat(`\x00`, 64)+`..." is unusable`)
	f.Fuzz(func(t *testing.T, header string, nowMs, offset int64) {
		now := time.UnixMilli(nowMs)
		deadline, problem := ParseDeadline(header, now)
		if problem == "" {
			if !deadline.After(now) || deadline.Sub(now) > maxFunctionTimeout+deadlineSlack {
				t.Errorf("parseDeadline(%q, %v) = %v, want a time up to %v after now", header, now, deadline,
					maxFunctionTimeout+deadlineSlack)
			}
		} else {
			if !deadline.IsZero() {
				t.Errorf("parseDeadline(%q, %v) = %v with problem %q, want the zero time", header, now, deadline, problem)
			}
			if strings.ContainsAny(problem, "\r\n") || len(problem) > maxProblem {
				t.Errorf("parseDeadline(%q, ...) gave problem %q (%d bytes), want one line of at most %d bytes",
					header, problem, len(problem), maxProblem)
			}
		}

		// A header as Lambda writes it: usable exactly when it lies after now,
		// within the longest timeout and the slack.
		ms := nowMs + offset
		if (offset > 0 && ms < nowMs) || (offset < 0 && ms > nowMs) {
			return // overflowed: not a time Lambda can send
		}
		header = strconv.FormatInt(ms, 10)
		deadline, problem = ParseDeadline(header, now)
		if usable := offset > 0 && offset <= window; usable != (problem == "") ||
			(usable && !deadline.Equal(time.UnixMilli(ms))) {
			t.Errorf("parseDeadline(%q, %d ms) = %v, %q; want usable %v", header, nowMs, deadline, problem, usable)
		}
	})
}
