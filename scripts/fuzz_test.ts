import assert from "node:assert/strict";
import { findFuzzTargets, fuzzTargets, isFuzzTime, isStopRace, parseFuzzArgs } from "./fuzz.ts";

Deno.test("fuzz finds Go's fuzz targets, and only them", () => {
  const source = [
    "func FuzzReadLine(f *testing.F) {",
    "func Fuzz(f *testing.F) {",
    "func Fuzzy(f *testing.F) {",
    "func TestFuzzLike(t *testing.T) {",
    "  func FuzzIndented(f *testing.F) {",
    "func Fuzz_x(f *testing.F) {",
  ].join("\n");
  assert.deepEqual(findFuzzTargets([source]), ["FuzzReadLine", "Fuzz", "Fuzz_x"]);
});

Deno.test("fuzz takes Go's -fuzztime forms and refuses the rest", () => {
  for (const ok of ["3s", "1m30s", "500x", "1.5s", "250ms"]) assert.ok(isFuzzTime(ok), ok);
  for (const bad of ["3", "s", "-3s", "3 s", "x", "3sx"]) assert.ok(!isFuzzTime(bad), bad);
  assert.equal(parseFuzzArgs([]).time, "3s");
  assert.deepEqual(parseFuzzArgs(["--time", "10s", "--only", "FuzzA"]), {
    time: "10s",
    only: "FuzzA",
  });
  assert.throws(() => parseFuzzArgs(["--time", "soon"]), /Bad --time "soon"/);
});

Deno.test("fuzz forgives only Go's stop race, never a failing input", () => {
  const race = "--- FAIL: FuzzA (2.01s)\n    context deadline exceeded\nFAIL\n";
  assert.ok(isStopRace("FuzzA", race));
  assert.ok(!isStopRace("FuzzB", race));
  assert.ok(!isStopRace("FuzzA", race + "Failing input written to testdata/fuzz/FuzzA/abc\n"));
  assert.ok(!isStopRace("FuzzA", "--- FAIL: FuzzA (0.01s)\n    got 3, want 4\n"));
});

Deno.test("fuzz finds the targets of every package of the bootstrap, internal ones too", async () => {
  const targets = await fuzzTargets();
  const where = (name: string) => targets.find((t) => t.name === name)?.pkg;
  assert.equal(where("FuzzReadResponse"), "./internal/httpc");
  assert.equal(where("FuzzParseDeadline"), "./internal/runtimeapi");
  assert.equal(where("FuzzChannelHandshake"), ".");
});
