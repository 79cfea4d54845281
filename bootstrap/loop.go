package main

import (
	"context"
	"errors"
	"fmt"
)

// invoker runs invocations: runtime1 on one long-lived Deno process.
type invoker interface {
	// invoke runs one event to completion, failure, or its deadline.
	invoke(ctx context.Context, inv *invocation) outcome
	// reset replaces a process that broke, or leaves that to the next invoke.
	reset(ctx context.Context)
	// stop ends every process the invoker started.
	stop()
}

// serve is the invoke loop: take the next event, run it, report the result,
// again, until the context ends (SIGTERM) or the Runtime API fails.
func serve(ctx context.Context, api *runtimeAPI, inv invoker, log *logger) error {
	for {
		ev, err := api.next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if ev.deadlineProblem != "" {
			log.errorf(ev.requestID, "%s: the invocation gets %s", ev.deadlineProblem, api.timeout.source)
		}
		out := runOne(ctx, inv, ev)
		ev.event.finish() // before the post, which can then reuse its connection
		if ctx.Err() != nil {
			return nil
		}
		if out.apiErr != nil {
			return out.apiErr
		}
		if err := report(ctx, api, ev.requestID, &out, log); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if out.recycle != nil { // Deno answered: nothing reads the event or the result any more
			out.recycle()
			api.client.bodies.give(ev.payload)
		}
		if out.broken {
			inv.reset(ctx)
		}
	}
}

// runOne runs an invocation, unless it cannot run: its event stalled on the
// way in, or a header of it is too large to pass on.
func runOne(ctx context.Context, inv invoker, ev *invocation) outcome {
	if ev.stalled {
		return outcome{err: timeoutError(ev)}
	}
	if fe := oversizedHeader(ev); fe != nil {
		return outcome{err: fe}
	}
	return inv.invoke(ctx, ev)
}

// maxInvocationHeaderBytes bounds what an invocation's headers may carry in
// all: runtime.js's HTTP server (runtime1) refuses much more. Lambda itself
// allows 3,583 bytes of client context, and the other headers are short.
const maxInvocationHeaderBytes = 32 << 10

// oversizedHeader fails an invocation whose headers are too large to pass on.
func oversizedHeader(ev *invocation) *functionError {
	total := 0
	largest, name := 0, ""
	for _, f := range invocationHeaders(ev) {
		total += len(f.name) + len(f.value)
		if len(f.value) > largest {
			largest, name = len(f.value), f.name
		}
	}
	if total <= maxInvocationHeaderBytes {
		return nil
	}
	return newInitError("Runtime.InvalidInvocationHeader", fmt.Sprintf(
		"RequestId: %s Error: %s is %d bytes: an invocation's headers may carry %d bytes in all (Lambda allows 3,583 bytes of client context)",
		ev.requestID, name, largest, maxInvocationHeaderBytes))
}

// report posts an invocation's outcome. Answers that concern only this
// invocation (413, 400, 403) are logged and the loop goes on; anything else
// means the Runtime API is broken. A streamed result that stops short is
// abandoned, and the invocation's error posted instead; if the API refuses it
// (AWS's takes the abandoned post as the answer), the runtime must end.
func report(ctx context.Context, api *runtimeAPI, requestID string, out *outcome, log *logger) error {
	var err error
	switch {
	case out.err != nil:
		log.failure(requestID, "Invoke Error", out.err)
		err = postErrorOrLess(ctx, api, requestID, out.err)
	case out.result != nil:
		err = api.postResponseStream(ctx, requestID, out.result)
		if cut := asCut(err); cut != nil && ctx.Err() == nil {
			out.err, out.broken = out.cutOff(err), true
			log.failure(requestID, "Invoke Error", out.err)
			err = api.postError(ctx, requestID, out.err)
			var se *statusError
			if errors.As(err, &se) && se.code == statusForbidden {
				// AWS's Runtime API (its emulator, at least) takes a post cut
				// off halfway as the invocation's answer, passes none of it on,
				// and then refuses everything, GET /next included, until the
				// runtime exits: Lambda then fails the invocation with
				// Runtime.ExitError and starts a fresh environment.
				return fmt.Errorf("invocation %s: its result was cut off after %d of %d bytes (%s), and the Runtime API takes no other answer for it: exiting, so that Lambda fails it and starts afresh: %w",
					requestID, cut.read, cut.size, out.err.Type, err)
			}
		}
	default:
		err = api.postResponse(ctx, requestID, out.response)
	}
	var se *statusError
	if !errors.As(err, &se) {
		return err
	}
	switch {
	case se.code == statusRequestEntityTooLarge && out.err == nil:
		log.errorf(requestID, "Function.ResponseSizeTooLarge: the response is %d bytes, over Lambda's limit of %d bytes; the invocation failed",
			out.size(), maxResponseBytes)
		return nil
	case se.code >= 400 && se.code < 500: // about this answer only: 400 stale id, 403 answered already
		log.errorf(requestID, "The Runtime API refused the result: %v", se)
		return nil
	}
	return err
}

// postErrorOrLess posts an invocation's error. A function shapes its errors,
// megabytes of message or stack included: if the Runtime API refuses one for
// what it carries, a shorter one says what happened.
func postErrorOrLess(ctx context.Context, api *runtimeAPI, requestID string, fe *functionError) error {
	err := api.postError(ctx, requestID, fe)
	var se *statusError
	if errors.As(err, &se) && se.code >= 400 && se.code < 500 && se.code != statusBadRequest && se.code != statusForbidden {
		return api.postError(ctx, requestID, fe.shortened(se.code))
	}
	return err
}

// size is the result's length in bytes.
func (out *outcome) size() int64 {
	if out.result != nil {
		return out.result.size
	}
	return int64(len(out.response))
}
