// What permissions really grant: a denied variable is gone for child processes
// too, and a missing permission is reported with a DENO_LAMBDA_PERMISSIONS
// value that works, which these tests then follow.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap } from "./_harness.ts";

const HOSTILE = "hostile.run";

/** The DENO_LAMBDA_PERMISSIONS value an error message advises. */
function advisedPermissions(message: string): string {
  const advised = message.match(/DENO_LAMBDA_PERMISSIONS="([^"]+)"/);
  assert.ok(advised, message);
  return advised[1];
}

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t("a variable denied with --deny-env is not in any child process's environment", async () => {
    const env = { DENO_LAMBDA_PERMISSIONS: "--allow-all --deny-env=AWS_SECRET_ACCESS_KEY" };
    await withBootstrap({ runtime, handler: HOSTILE, env }, async (b) => {
      const out = await b.api.invoke({
        run: "shell",
        command: 'echo "secret=$AWS_SECRET_ACCESS_KEY id=$AWS_ACCESS_KEY_ID"',
      });
      assert.equal(out.kind, "response", out.body);
      assert.equal(JSON.parse(out.body), "secret= id=AKIDTESTTESTTEST\n");
    });
  });

  t(
    "node:child_process without run permission says which DENO_LAMBDA_PERMISSIONS works",
    async () => {
      let advised = "";
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        const out = await b.api.invoke({ run: "shell", command: "echo hi" });
        assert.equal(out.kind, "error", out.body);
        const message = JSON.parse(out.body).errorMessage;
        assert.match(message, /^Command failed: echo hi: /);
        advised = advisedPermissions(message);
        assert.match(advised, /--allow-run=/);
      });
      await withBootstrap({
        runtime,
        handler: HOSTILE,
        env: { DENO_LAMBDA_PERMISSIONS: advised },
      }, async (b) => {
        const out = await b.api.invoke({ run: "shell", command: "echo hi" });
        assert.equal(out.kind, "response", `${advised}: ${out.body}`);
        assert.equal(JSON.parse(out.body), "hi\n");
        // Following the advice kept the defaults: the network and the environment.
        assert.match(advised, /--allow-net( |$)/);
        assert.match(advised, /--allow-env( |$)/);
      });
    },
  );

  t("a missing read permission is reported with a DENO_LAMBDA_PERMISSIONS that works", async () => {
    let advised = "";
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      const out = await b.api.invoke({ run: "readFile", path: "/etc/hostname" });
      assert.equal(out.errorType, "NotCapable", out.body);
      const body = JSON.parse(out.body);
      advised = advisedPermissions(body.errorMessage);
      assert.match(advised, /--allow-read=\/etc\/hostname/);
      assert.doesNotMatch(body.stackTrace[0], /run again with/);
    });
    await withBootstrap({
      runtime,
      handler: HOSTILE,
      env: { DENO_LAMBDA_PERMISSIONS: advised },
    }, async (b) => {
      const out = await b.api.invoke({ run: "readFile", path: "/etc/hostname" });
      assert.equal(out.kind, "response", `${advised}: ${out.body}`);
    });
  });
}
