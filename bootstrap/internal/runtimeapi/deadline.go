package runtimeapi

import (
	"fmt"
	"strconv"
	"time"
)

// Every invocation gets a deadline, after which its Deno process is killed and
// Runtime.Timeout posted. Lambda sends it as Lambda-Runtime-Deadline-Ms; when
// that header is missing or unusable, the invocation gets the function's
// timeout instead, so that no handler runs for ever.

const (
	// maxFunctionTimeout is the longest a Lambda invocation may run.
	maxFunctionTimeout = 900 * time.Second
	// deadlineSlack is how far past maxFunctionTimeout a deadline may lie
	// before it is taken for a wrong one: clocks drift a little.
	deadlineSlack = time.Minute
)

// Timeout is what an invocation without a usable deadline gets.
type Timeout struct {
	D      time.Duration
	Source string // where it comes from, for the log
}

// FunctionTimeout reads AWS_LAMBDA_FUNCTION_TIMEOUT, in seconds. Lambda itself
// does not set it (it sends deadlines); AWS's emulator and the test harness
// do. Without it, the fallback is Lambda's longest timeout.
func FunctionTimeout(seconds string) Timeout {
	if n, err := strconv.Atoi(seconds); err == nil && n > 0 && time.Duration(n)*time.Second <= maxFunctionTimeout {
		return Timeout{time.Duration(n) * time.Second, fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT (%d s)", n)}
	}
	return Timeout{maxFunctionTimeout, fmt.Sprintf("Lambda's longest timeout (%d s)", int(maxFunctionTimeout.Seconds()))}
}

// ParseDeadline reads Lambda-Runtime-Deadline-Ms (milliseconds since the
// epoch) as of now. problem says why the header cannot be used: missing, not
// a whole number, or not a time between now and the longest timeout to come.
func ParseDeadline(header string, now time.Time) (deadline time.Time, problem string) {
	if header == "" {
		return time.Time{}, HeaderDeadlineMs + " is missing"
	}
	ms, err := strconv.ParseInt(header, 10, 64)
	if err == nil {
		deadline = time.UnixMilli(ms)
		if deadline.After(now) && deadline.Sub(now) <= maxFunctionTimeout+deadlineSlack {
			return deadline, ""
		}
	}
	return time.Time{}, fmt.Sprintf("%s %q is unusable", HeaderDeadlineMs, truncateUTF8(header, 64))
}
