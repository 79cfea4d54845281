// Command bootstrap is the Lambda custom runtime entry point for Deno.
//
// Lambda starts it as /opt/bootstrap (the runtime layer). It reads the
// function's settings from the environment, starts Deno on runtime.js (found
// beside this executable), imports the function during the init phase, and then
// serves invocations from the Lambda Runtime API until Lambda shuts the
// environment down.
//
// One source builds both runtimes; -ldflags "-X main.runtimeName=runtime2"
// picks the second. runtime1 (longLived, long_lived*.go) keeps one Deno
// process and hands it each event over a loopback HTTP bridge; runtime2
// (perEvent, per_event*.go) gives each event a fresh Deno process, started
// ahead of time. concurrency.go runs several invocations at once under Lambda
// Managed Instances. restart.go is what both do when a process breaks. Each Deno
// process has a private channel to the bootstrap (channels.go). The function's
// code is untrusted: every byte read from Deno is bounded and validated, and
// the bootstrap is the subreaper of whatever the function starts (reaper.go).
// docs/security.md has the model, docs/design.md the map.
//
// Two packages hold the transport, and import nothing of this one:
// internal/httpc is the HTTP/1.1 client (connections, bounded answers, bodies
// passed on as they arrive, reused buffers); internal/runtimeapi is the
// Lambda Runtime API on top of it (next invocation, respond, respond as a
// stream, fail, init error, deadlines, the error body).
//
// # Environment
//
// Set by Lambda and read here:
//
//	AWS_LAMBDA_RUNTIME_API   host:port of the Runtime API (required)
//	_HANDLER                 "<module>.<export>", default "function.handler"
//	LAMBDA_TASK_ROOT         where the function zip is unpacked, default /var/task
//	TMPDIR                   the only writable place, default /tmp
//	AWS_LAMBDA_LOG_FORMAT    "Text" (default) or "JSON", for the runtime's own lines too
//	AWS_LAMBDA_MAX_CONCURRENCY       set (1 to 1024) by Managed Instances:
//	                         that many invocations at once
//	AWS_LAMBDA_FUNCTION_TIMEOUT      seconds an invocation gets when its
//	                         Lambda-Runtime-Deadline-Ms is missing or unusable
//	                         (AWS's emulator sets it), else 900
//
// The runtime's own settings:
//
//	DENO_LAMBDA_PERMISSIONS  Deno permission flags for the function, replacing
//	                         the defaults (network, environment, system info,
//	                         reading the task root, /opt and TMPDIR, writing TMPDIR)
//	DENO_LAMBDA_WORKERS      runtime1 under Managed Instances: its Deno
//	                         processes, 1 to the concurrency, default one per CPU
//
// Everything in the environment, credentials included, is passed on to Deno.
// DENO_DIR is always set to $TMPDIR/deno-dir, because the layers are read-only
// and Deno's V8 code cache silently does nothing in a read-only DENO_DIR. It is
// seeded from deno-dir/<arch>/ of the function zip and of the runtime layer.
//
// # Errors
//
// Three classes, each handled differently:
//
//   - Init failure (bad _HANDLER, DENO_LAMBDA_PERMISSIONS or concurrency, no deno, the
//     function fails to import):
//     posted to /runtime/init/error with a Runtime.* type; then exit 1.
//   - Invocation failure (the handler throws, Deno exits or hangs past the
//     deadline, Deno sends something malformed or too large, the event's
//     body stalls, its headers are too large to pass on): posted to
//     /runtime/invocation/{id}/error; the loop goes on, on a fresh Deno
//     process if the old one is gone.
//   - Runtime API failure (connection refused, 500, malformed answer, an
//     event cut off halfway or over 8 MiB): nothing can be reported; exit 1
//     promptly and let Lambda reset the environment.
//     runtime1 passes large bodies on as they arrive (internal/httpc). A result
//     Deno stops writing halfway (it died, or the deadline passed) is abandoned
//     mid-post; the Runtime API passes none of it on, and as it then refuses
//     any other answer for the invocation (403), the bootstrap exits 1 and
//     Lambda fails the invocation with Runtime.ExitError.
//     A request goes again only when the peer cannot have taken it (the
//     kept-alive connection was found closed before it went out, or a GET got
//     no byte of an answer); a POST that went out is never sent twice.
//     A 413 (response too large), 400 (stale request id) or 403 (already
//     answered) is logged and the loop goes on.
//
// # Exit codes
//
//	0  stopped by SIGTERM or SIGINT
//	1  init failure or Runtime API failure
package main
