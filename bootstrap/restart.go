package main

import (
	"context"
	"errors"
	"time"

	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// What happens when a Deno process breaks (it exits, overruns a deadline, or
// an error escapes the handler): the one restart policy of both runtimes.
//
//   - The invocation it served fails (its outcome is broken), and the loop
//     asks the runtime to reset before it fetches the next event.
//   - runtime1 (longLived) then starts a fresh Deno and waits for it to import
//     the function, for at most restartTimeout, so that the next event meets
//     a warm process; runtime2 (perEvent) discards the used process, whose
//     successor is already starting.
//   - A process that is not ready when its event comes is waited for until
//     that event's deadline: the function's import may never end. runtime1
//     starts one then if it has none.
//   - If it cannot be started, the event fails as notStarted says, and the
//     next event tries again.

// restartTimeout bounds replacing a Deno that broke, between invocations, as
// Lambda bounds the init phase.
const restartTimeout = 10 * time.Second

// notStarted is an invocation's outcome when the Deno that was to run it did
// not become ready: shutdown came first, its deadline passed while the
// function was imported, or the import failed (with its own error type).
func notStarted(ctx context.Context, inv *runtimeapi.Invocation, err error) outcome {
	switch {
	case ctx.Err() != nil:
		return outcome{err: shutdownError(inv.RequestID), broken: true}
	case errors.Is(err, context.DeadlineExceeded):
		return outcome{err: timeoutError(inv), broken: true}
	}
	fe := asFunctionError(err)
	return outcome{err: &functionError{Type: fe.Type, Message: "RequestId: " + inv.RequestID + " " + fe.Message,
		StackTrace: fe.StackTrace}, broken: true}
}
