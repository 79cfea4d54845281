// @ts-check
// runtime1's bridge: one Deno process for the whole execution environment.
//
// The bootstrap starts this file with one JSON line on stdin (its FIFO, the
// bundle, the export). Init imports the function and writes {} (or
// {"error": {...}}) to the FIFO. Then the process serves events one after the
// other, each as ../_shared/serve.js reads and answers it, until the bootstrap
// closes stdin or stops it. Pipes, not a loopback HTTP server: nothing to
// listen on, nothing another process could reach, and a few microseconds per
// event where HTTP took a hundred or two.
import { Input } from "../_shared/control.js";
import { init } from "../_shared/init.js";
import { serveOne } from "../_shared/serve.js";

const input = new Input();
const { output, handler, env } = await init(input);
output.send({});

for (;;) await serveOne(input, output, handler, env);
