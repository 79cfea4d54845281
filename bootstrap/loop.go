package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/httpc"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
)

// invoker runs invocations: longLived (runtime1) or perEvent (runtime2).
type invoker interface {
	// invoke runs one event to completion, failure, or its deadline.
	invoke(ctx context.Context, inv *runtimeapi.Invocation) outcome
	// reset replaces the process that broke serving out, or leaves that to
	// the next invoke.
	reset(ctx context.Context, out *outcome)
	// stop ends every process the invoker started.
	stop()
}

// outcome is what one invocation produced.
type outcome struct {
	response []byte         // the result, when err is nil
	err      *functionError // the failure to post to /error
	broken   bool           // the Deno process is gone (or used up) and must be replaced
	served   *denoProcess   // runtime1: the process that ran it, to replace when broken
	// recycle, set when Deno answered (so nothing still reads the event or
	// writes the result), gives the result's buffer back once it is posted.
	recycle func()
	// result, instead of response: a large result still coming from Deno
	// (runtime1), posted as it arrives. If it stops short, cutOff gives the
	// invocation's error, and the process is gone.
	result *httpc.Stream
	cutOff func(error) *functionError
	// streamed, instead of response: a result the handler streams, posted
	// as it comes; it may end in an error, which goes in the post's trailers.
	streamed *streamed
	// apiErr: the Runtime API failed while handing out the event; serve ends.
	apiErr error
}

// serve is the invoke loop: take the next event, run it, report the result,
// again, until the context ends (SIGTERM) or the Runtime API fails.
func serve(ctx context.Context, api *runtimeapi.Client, inv invoker, log *logger) error {
	for {
		ev, err := api.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if ev.DeadlineProblem != "" {
			log.errorf(ev.RequestID, "%s: the invocation gets %s", ev.DeadlineProblem, api.Timeout.Source)
		}
		out := runOne(ctx, inv, ev)
		ev.Done() // before the post, which can then reuse its connection
		if ctx.Err() != nil {
			return nil
		}
		if out.apiErr != nil {
			return out.apiErr
		}
		err = report(ctx, api, ev, &out, log)
		if ctx.Err() != nil {
			// Shutdown came while a stream was posted or its handler settled:
			// the processes are stopped with their grace, none reset here.
			return nil
		}
		if err != nil {
			return err
		}
		if out.recycle != nil { // Deno answered: nothing reads the event or the result any more
			out.recycle()
			ev.Recycle()
		}
		if out.broken {
			inv.reset(ctx, &out)
		}
	}
}

// runOne runs an invocation, unless it cannot run: its event stalled on the
// way in, or a header of it is too large to pass on.
func runOne(ctx context.Context, inv invoker, ev *runtimeapi.Invocation) outcome {
	if ev.Stalled {
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
func oversizedHeader(ev *runtimeapi.Invocation) *functionError {
	total := 0
	largest, name := 0, ""
	for _, f := range ev.Headers() {
		total += len(f.Name) + len(f.Value)
		if len(f.Value) > largest {
			largest, name = len(f.Value), f.Name
		}
	}
	if total <= maxInvocationHeaderBytes {
		return nil
	}
	return newInitError("Runtime.InvalidInvocationHeader", fmt.Sprintf(
		"RequestId: %s Error: %s is %d bytes: an invocation's headers may carry %d bytes in all (Lambda allows 3,583 bytes of client context)",
		ev.RequestID, name, largest, maxInvocationHeaderBytes))
}

// report posts an invocation's outcome. Answers that concern only this
// invocation (413, 400, 403, 410) are logged and the loop goes on; anything else
// means the Runtime API is broken. A streamed result that stops short is
// abandoned, and the invocation's error posted instead; if the API refuses it
// (AWS's takes the abandoned post as the answer), the runtime must end.
func report(ctx context.Context, api *runtimeapi.Client, ev *runtimeapi.Invocation, out *outcome, log *logger) error {
	requestID := ev.RequestID
	var err error
	switch {
	case out.err != nil:
		log.failure(requestID, "Invoke Error", out.err)
		err = api.Fail(ctx, ev, out.err)
	case out.result != nil:
		err = api.RespondStream(ctx, ev, out.result)
		if cut := httpc.AsCut(err); cut != nil && ctx.Err() == nil {
			out.err, out.broken = out.cutOff(err), true
			log.failure(requestID, "Invoke Error", out.err)
			err = api.Fail(ctx, ev, out.err)
			var se *runtimeapi.StatusError
			if errors.As(err, &se) && se.Code == runtimeapi.StatusForbidden {
				// AWS's Runtime API (its emulator, at least) takes a post cut
				// off halfway as the invocation's answer, passes none of it on,
				// and then refuses everything, GET /next included, until the
				// runtime exits: Lambda then fails the invocation with
				// Runtime.ExitError and starts a fresh environment.
				return fmt.Errorf("invocation %s: its result was cut off after %d of %d bytes (%s), and the Runtime API takes no other answer for it: exiting, so that Lambda fails it and starts afresh: %w",
					requestID, cut.Read, cut.Size, out.err.Type, err)
			}
		}
	case out.streamed != nil:
		body := out.streamed.body
		defer body.abandonOnShutdown(ctx)() // else its reads wait for the deadline
		err = api.RespondStreaming(ctx, ev, out.streamed.contentType, body, body.trailer)
		if body.fail != nil {
			log.failure(requestID, "Invoke Error", body.fail)
		}
		// As on Node.js, the next event waits for the handler to settle.
		late, broken := body.settle()
		if late != nil {
			log.failure(requestID, "Invoke Error", late)
		}
		out.broken = out.broken || broken
	default:
		err = api.Respond(ctx, ev, out.response)
	}
	var se *runtimeapi.StatusError
	if !errors.As(err, &se) {
		return err
	}
	switch {
	case se.Code == runtimeapi.StatusRequestEntityTooLarge && out.err == nil && out.streamed != nil:
		log.errorf(requestID, "Function.ResponseSizeTooLarge: the Runtime API refused the streamed response after %d bytes, over Lambda's limit of %d bytes for a streamed response; the invocation failed",
			out.size(), runtimeapi.MaxStreamedBytes)
		return nil
	case se.Code == runtimeapi.StatusRequestEntityTooLarge && out.err == nil:
		log.errorf(requestID, "Function.ResponseSizeTooLarge: the response is %d bytes, over Lambda's limit of %d bytes; the invocation failed",
			out.size(), runtimeapi.MaxResponseBytes)
		return nil
	case se.Code >= 400 && se.Code < 500: // about this answer only: 400 unknown id, 403 answered already, 410 over
		log.errorf(requestID, "The Runtime API refused the result: %v", se)
		return nil
	}
	return err
}

// size is the result's length in bytes.
func (out *outcome) size() int64 {
	if out.result != nil {
		return out.result.Size()
	}
	if out.streamed != nil {
		return out.streamed.body.sent
	}
	return int64(len(out.response))
}
