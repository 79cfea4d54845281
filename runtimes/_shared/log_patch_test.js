// @ts-check
// formatArgs is pure and runs here. Records are written to Deno.stdout by a
// patched console, so they are read from a child process's stdout: the test
// runner's own console stays as it is.
import assert from "node:assert/strict";
import { formatArgs } from "./log_patch.js";
import { childSaid, moduleUrl, runChild } from "./testdata/helpers.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Runs code in a child whose console is patched with options and whose log
 * records carry request id "req-1"; returns its stdout lines and the time span
 * the records were written in.
 */
async function records(
  /** @type {{ format?: string, level?: string }} */ options,
  /** @type {string} */ code,
) {
  const start = Date.now();
  const out = await runChild(`
    import { logRecord, patchConsole } from "${moduleUrl("log_patch.js")}";
    import { clearInvocation, withInvocation } from "${moduleUrl("invoke_store.js")}";
    patchConsole(${JSON.stringify(options)});
    withInvocation({ requestId: "req-1", traceId: null, tenantId: undefined }, async () => {});
    ${code}
  `);
  const end = Date.now();
  assert.equal(out.code, 0, childSaid(out));
  assert.equal(out.stderr, "", "records go to stdout only");
  return { lines: out.stdout.split("\n").slice(0, -1), start, end };
}

/** The JSON records among lines, parsed. */
function parsed(/** @type {string[]} */ lines) {
  return lines.map((line) => JSON.parse(line));
}

Deno.test("formatArgs substitutes format specifiers as Node's util.format does", () => {
  const cycle = /** @type {Record<string, unknown>} */ ({ a: 1 });
  cycle.self = cycle;
  /** @type {[unknown[], string][]} */
  const cases = [
    [["%s!", "str"], "str!"],
    [["%s", 1.5], "1.5"],
    [["%s", 5n], "5n"],
    [["%s", null], "null"],
    [["%s", undefined], "undefined"],
    [["%s", Symbol("q")], "Symbol(q)"],
    [["%s", -0], "-0"],
    [["%s", { a: [1] }], "{ a: [ 1 ] }"],
    [["%d", 42], "42"],
    [["%d", "12abc"], "NaN"],
    [["%d", ""], "0"],
    [["%d", "0x10"], "16"],
    [["%d", 5n], "5n"],
    [["%d", {}], "NaN"],
    [["%i", 1.9], "1"],
    [["%i", -1.9], "-1"],
    [["%i", "0x10"], "16"],
    [["%i", 7n], "7n"],
    [["%f", "3.5abc"], "3.5"],
    [["%f", 2], "2"],
    [["%f", "x"], "NaN"],
    [["%j", { a: 1 }], '{"a":1}'],
    [["%j", cycle], "[Circular]"],
    [["%j", undefined], "undefined"],
    [["%o", { a: 1 }], "{ a: 1 }"],
    [["%O", [1, "x"]], '[ 1, "x" ]'],
    [["%c%s", "color: red", "x"], "x"],
    [["%% %s", "a"], "% a"],
    [["%s %s", "a"], "a %s"],
    [["%x %s", 1], "%x 1"],
    [["%s:%s", "a", "b"], "a:b"],
  ];
  for (const [args, want] of cases) {
    assert.equal(formatArgs(args), want, `formatArgs(${Deno.inspect(args)})`);
  }
});

Deno.test("formatArgs leaves a lone string as it is", () => {
  assert.equal(formatArgs(["100%% %s %d"]), "100%% %s %d");
  assert.equal(formatArgs(["a\nb"]), "a\nb");
});

Deno.test("formatArgs appends extra arguments, strings as they are and values inspected", () => {
  assert.equal(formatArgs([]), "");
  assert.equal(formatArgs(["a", "b", 1, { c: 1 }]), "a b 1 { c: 1 }");
  assert.equal(formatArgs(["%s", "a", "b", null]), "a b null");
  assert.equal(formatArgs([1, "a"]), "1 a");
  assert.equal(formatArgs([{ a: "x" }, ["y"]]), '{ a: "x" } [ "y" ]');
  assert.equal(formatArgs([undefined]), "undefined");
});

Deno.test("formatArgs inspects values without colours, four levels deep", () => {
  const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
  assert.equal(formatArgs([deep]), Deno.inspect(deep, { colors: false, depth: 4 }));
  assert.match(formatArgs([deep]), /e: \[Object\]/);
  assert.equal(formatArgs([new Map([["k", 1]])]), 'Map(1) { "k" => 1 }');
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(formatArgs([{ s: "x", n: 1 }]), /\x1b/);
});

// BUG (log_patch.js, formatArgs): Node's util.format gives NaN for a Symbol
// under %d and %i; Number(symbol) throws instead, and the whole record becomes
// "[a logged value could not be formatted: TypeError: ...]".
Deno.test({
  name: "formatArgs %d and %i give NaN for a Symbol, as Node does",
  fn() {
    assert.equal(formatArgs(["%d", Symbol("x")]), "NaN");
    assert.equal(formatArgs(["%i", Symbol("x")]), "NaN");
  },
});

// BUG (log_patch.js, formatArgs): Node documents %i as parseInt(value, 10);
// Math.trunc(Number(value)) gives NaN for "42px" (Node: 42) and 0 for ""
// (Node: NaN).
Deno.test({
  name: "formatArgs %i parses as parseInt does, as Node does",
  fn() {
    assert.equal(formatArgs(["%i", "42px"]), "42");
    assert.equal(formatArgs(["%i", ""]), "NaN");
  },
});

// BUG (log_patch.js, formatArgs): Node's %d keeps the sign of -0 ("-0");
// String(-0) drops it.
Deno.test({
  name: "formatArgs %d keeps the sign of -0, as Node does",
  fn() {
    assert.equal(formatArgs(["%d", -0]), "-0");
  },
});

// BUG (log_patch.js, formatArgs): Node's %s calls an object's own toString
// ("objects that have no user defined toString function are inspected");
// formatArgs always inspects.
Deno.test({
  name: "formatArgs %s uses an object's own toString, as Node does",
  fn() {
    class Money {
      toString() {
        return "12.50 EUR";
      }
    }
    assert.equal(formatArgs(["price: %s", new Money()]), "price: 12.50 EUR");
  },
});

Deno.test("a Text record is timestamp, request id, level and message, one line", async () => {
  const { lines, start, end } = await records(
    {},
    `
    console.log("first\\nsecond", 1, { x: 1 });
    console.log("a\\r\\nb");
  `,
  );
  assert.equal(lines.length, 2);
  const [timestamp, requestId, level, message] = lines[0].split("\t");
  assert.match(timestamp, ISO);
  const time = Date.parse(timestamp);
  assert.ok(time >= start && time <= end, `${timestamp} is not between the child's start and end`);
  assert.equal(requestId, "req-1");
  assert.equal(level, "INFO");
  // CloudWatch splits on \n: a multi-line message stays one record.
  assert.equal(message, "first\rsecond 1 { x: 1 }");
  assert.equal(lines[1].split("\t")[3], "a\r\rb");
});

Deno.test("a Text record of an error keeps its stack on one line", async () => {
  const { lines } = await records({}, "console.error(new Error('boom'));");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /\tERROR\tError: boom\r {4}at /);
});

Deno.test("each console method writes at its level", async () => {
  const { lines } = await records(
    {},
    `
    console.trace("t"); console.debug("d"); console.info("i"); console.log("l");
    console.warn("w"); console.error("e"); /** @type {any} */ (console).fatal("f");
  `,
  );
  assert.deepEqual(lines.map((line) => line.split("\t").slice(2).join("\t")), [
    "TRACE\tt",
    "DEBUG\td",
    "INFO\ti",
    "INFO\tl",
    "WARN\tw",
    "ERROR\te",
    "FATAL\tf",
  ]);
});

Deno.test("a record before any invocation has request id undefined", async () => {
  const { lines } = await records({}, `clearInvocation(); console.log("init");`);
  assert.equal(lines[0].split("\t")[1], "undefined");
  const json = await records({ format: "JSON" }, `clearInvocation(); console.log("init");`);
  assert.equal("requestId" in parsed(json.lines)[0], false);
});

Deno.test("a JSON record has timestamp, level, request id and message", async () => {
  const { lines, start, end } = await records(
    { format: "json" },
    `console.warn("disk %d%% full", 91);`,
  );
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(record), ["timestamp", "level", "requestId", "message"]);
  assert.match(record.timestamp, ISO);
  const time = Date.parse(record.timestamp);
  assert.ok(
    time >= start && time <= end,
    `${record.timestamp} is not between the child's start and end`,
  );
  assert.equal(record.level, "WARN");
  assert.equal(record.requestId, "req-1");
  assert.equal(record.message, "disk 91% full");
});

Deno.test("a JSON record carries the invocation's tenant id after its request id, as on Node.js", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `withInvocation({ requestId: "req-t", traceId: null, tenantId: "tenant-7" }, async () => {});
    console.log("hi");`,
  );
  const record = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(record), ["timestamp", "level", "requestId", "tenantId", "message"]);
  assert.deepEqual([record.requestId, record.tenantId], ["req-t", "tenant-7"]);
});

Deno.test("a JSON record keeps a lone value as JSON, not as text", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `
    console.log({ order: 7, tags: ["a"] });
    console.log("text");
    console.log(3);
    console.log(null);
  `,
  );
  assert.deepEqual(parsed(lines).map((r) => r.message), [
    { order: 7, tags: ["a"] },
    "text",
    3,
    null,
  ]);
});

Deno.test("a JSON record gives a lone error's errorType, errorMessage and stackTrace", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `
    const error = new TypeError("bad order");
    error.code = "E_ORDER";
    console.error(error);
    console.error({ wrapped: error });
  `,
  );
  const [lone, wrapped] = parsed(lines);
  assert.equal(lone.message.errorType, "TypeError");
  assert.equal(lone.message.errorMessage, "bad order");
  assert.equal(lone.message.stackTrace[0], "TypeError: bad order");
  assert.match(lone.message.stackTrace[1], /^ {4}at /);
  assert.equal(lone.message.code, "E_ORDER");
  assert.equal(wrapped.message.wrapped.errorType, "TypeError");
});

Deno.test("a JSON record of a message and an error adds the error's fields beside the text", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `
    console.error("failed:", new RangeError("out of range"), new Error("second"));
  `,
  );
  const [record] = parsed(lines);
  assert.match(record.message, /^failed: RangeError: out of range\n {4}at /);
  assert.equal(record.errorType, "RangeError");
  assert.equal(record.errorMessage, "out of range");
  assert.equal(record.stackTrace[0], "RangeError: out of range");
});

Deno.test("a JSON record writes a bigint as a string with its n", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `
    console.log(12n);
    console.log({ id: 9007199254740993n });
  `,
  );
  assert.deepEqual(parsed(lines).map((r) => r.message), ["12n", { id: "9007199254740993n" }]);
});

Deno.test("a JSON record of a value JSON cannot hold falls back to its inspected text", async () => {
  const { lines } = await records(
    { format: "JSON" },
    `
    const cycle = { a: 1 };
    cycle.self = cycle;
    console.log(cycle);
    console.log({ get toJSON() { throw new Error("no JSON"); } });
  `,
  );
  assert.deepEqual(parsed(lines).map((r) => r.message), [
    "<ref *1> { a: 1, self: [Circular *1] }",
    "{ toJSON: [Getter] }",
  ]);
});

Deno.test("AWS_LAMBDA_LOG_LEVEL drops records below its level", async () => {
  const all = `
    console.trace("t"); console.debug("d"); console.info("i"); console.log("l");
    console.warn("w"); console.error("e"); /** @type {any} */ (console).fatal("f");
  `;
  /** @type {[string | undefined, string[]][]} */
  const cases = [
    ["WARN", ["WARN", "ERROR", "FATAL"]],
    ["error", ["ERROR", "FATAL"]],
    ["INFO", ["INFO", "INFO", "WARN", "ERROR", "FATAL"]],
    ["DEBUG", ["DEBUG", "INFO", "INFO", "WARN", "ERROR", "FATAL"]],
    [undefined, ["TRACE", "DEBUG", "INFO", "INFO", "WARN", "ERROR", "FATAL"]],
    ["NOT_A_LEVEL", ["TRACE", "DEBUG", "INFO", "INFO", "WARN", "ERROR", "FATAL"]],
  ];
  for (const [level, want] of cases) {
    const { lines } = await records({ format: "JSON", level }, all);
    assert.deepEqual(parsed(lines).map((r) => r.level), want, `level ${level}`);
  }
});

Deno.test("a logged value that throws when formatted is replaced by a note saying why", async () => {
  const setup = `
    const refuses = { [Symbol.for("Deno.customInspect")]() { throw new Error("inspect refused"); } };
    const mute = { [Symbol.for("Deno.customInspect")]() { throw Object.create(null); } };
  `;
  const text = await records({}, setup + `console.log(refuses); console.log("x", mute);`);
  assert.deepEqual(text.lines.map((line) => line.split("\t").slice(2).join("\t")), [
    "INFO\t[a logged value could not be formatted: Error: inspect refused]",
    "INFO\t[a logged value could not be formatted]",
  ]);
  const json = await records({ format: "JSON" }, setup + `console.log("value:", refuses);`);
  assert.equal(
    parsed(json.lines)[0].message,
    "[a logged value could not be formatted: Error: inspect refused]",
  );
});

Deno.test("logRecord writes the runtime's own records in the format patchConsole chose", async () => {
  const out = await runChild(`
    import { logRecord, patchConsole } from "${moduleUrl("log_patch.js")}";
    import { clearInvocation, withInvocation } from "${moduleUrl("invoke_store.js")}";
    withInvocation({ requestId: "req-2", traceId: null, tenantId: undefined }, async () => {});
    logRecord("ERROR", ["before patching"]);
    patchConsole({ format: "JSON", level: "FATAL" });
    logRecord("ERROR", ["after patching"]);
  `);
  assert.equal(out.code, 0, childSaid(out));
  const [text, json] = out.stdout.split("\n");
  assert.match(text, /^\S+\treq-2\tERROR\tbefore patching$/);
  // The level filters the function's records, not the runtime's own.
  assert.deepEqual(
    { ...JSON.parse(json), timestamp: "T" },
    { timestamp: "T", level: "ERROR", requestId: "req-2", message: "after patching" },
  );
});
