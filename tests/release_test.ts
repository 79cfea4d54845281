// The release workflow's shell steps, run by bash as the runner would, with
// the variables a repository may set and a stand-in deno that records what it
// is asked to publish.
import assert from "node:assert/strict";
import { ROOT } from "../scripts/_paths.ts";

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

/** The workflow's jobs and their steps, read with Python's YAML parser. */
async function workflow(): Promise<Record<string, { steps: Step[] }>> {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))['jobs']))",
      `${ROOT}/.github/workflows/release.yml`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Runs a step's script under bash -e (as GitHub runs it) with env. */
async function runStep(step: Step, env: Record<string, string>, path?: string) {
  const out = await new Deno.Command("bash", {
    args: ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!],
    clearEnv: true,
    env: { PATH: path ? `${path}:${Deno.env.get("PATH")}` : Deno.env.get("PATH")!, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

const jobs = await workflow();
const publishing = jobs["publish-layers"].steps;
const check = publishing.find((s) => s.name === "Check the variables")!;
const publish = publishing.find((s) => s.name?.startsWith("Publish the Deno layer"))!;

Deno.test("the release refuses a layer bucket with more than one region, before anything else", async () => {
  assert.equal(publishing[0], check);
  const refused = await runStep(check, { BUCKET: "layers", REGIONS: "us-east-1 eu-west-1" });
  assert.equal(refused.code, 1);
  assert.match(
    refused.text,
    /::error::AWS_LAYER_BUCKET serves one region, and AWS_REGIONS names 2/,
  );
  for (const env of [{ BUCKET: "layers", REGIONS: "eu-west-1" }, { BUCKET: "", REGIONS: "a b" }]) {
    assert.equal((await runStep(check, env)).code, 0, JSON.stringify(env));
  }
});

Deno.test("the release publishes every layer in each region it names", async () => {
  const bin = await Deno.makeTempDir();
  try {
    // A deno that records its arguments, one call a line.
    await Deno.writeTextFile(`${bin}/deno`, `#!/bin/sh\necho "$*" >> "${bin}/calls"\n`);
    await Deno.chmod(`${bin}/deno`, 0o755);
    const run = await runStep(publish, { BUCKET: "", REGIONS: "us-east-1 eu-west-1" }, bin);
    assert.equal(run.code, 0, run.text);
    const calls = (await Deno.readTextFile(`${bin}/calls`)).trim().split("\n");
    assert.deepEqual(calls, [
      "task deploy:deno-layer --region us-east-1",
      "task deploy:runtime1 --region us-east-1",
      "task deploy:runtime2 --region us-east-1",
      "task deploy:deno-layer --region eu-west-1",
      "task deploy:runtime1 --region eu-west-1",
      "task deploy:runtime2 --region eu-west-1",
    ]);
    await Deno.remove(`${bin}/calls`);
    assert.equal((await runStep(publish, { BUCKET: "b", REGIONS: "us-east-1" }, bin)).code, 0);
    assert.match(
      await Deno.readTextFile(`${bin}/calls`),
      /^task deploy:runtime2 --region us-east-1 --bucket b$/m,
    );
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});
