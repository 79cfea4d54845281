// Console output reaches stdout in Lambda's Text and JSON log formats.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap } from "./_harness.ts";

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: Text logs carry timestamp, request id and level, one record per line`, async () => {
    await withBootstrap({ runtime, handler: "handlers.logs" }, async (b) => {
      await b.api.invoke({}, { requestId: "log-req-1" });
      await b.stop();
      const lines = b.stdout().split("\n").filter((l) => l !== "");
      const records = lines.map((l) => l.split("\t"));
      for (const [ts, id] of records) {
        assert.match(ts, TIMESTAMP);
        assert.equal(id, "log-req-1");
      }
      const byLevel = records.map(([, , level, ...msg]) => `${level} ${msg.join("\t")}`);
      assert.deepEqual(byLevel.slice(0, 3), [
        "INFO hello log, 42 { a: 1 }",
        "INFO info line",
        "WARN warn line",
      ]);
      assert.match(byLevel[3], /^ERROR error line Error: logged error\r {4}at /);
      assert.equal(byLevel[4], "DEBUG debug line");
      assert.equal(byLevel[5], "INFO multi\rline\rmessage");
      assert.equal(records.length, 6);
    });
  });

  Deno.test(`${runtime}: JSON logs are one object per record and AWS_LAMBDA_LOG_LEVEL filters`, async () => {
    await withBootstrap(
      {
        runtime,
        handler: "handlers.logs",
        env: { AWS_LAMBDA_LOG_FORMAT: "JSON", AWS_LAMBDA_LOG_LEVEL: "INFO" },
      },
      async (b) => {
        await b.api.invoke({}, { requestId: "log-req-2" });
        await b.stop();
        const records = b.stdout().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
        for (const r of records) {
          assert.match(r.timestamp, TIMESTAMP);
          assert.equal(r.requestId, "log-req-2");
        }
        assert.deepEqual(records.map((r) => r.level), ["INFO", "INFO", "WARN", "ERROR", "INFO"]);
        assert.equal(records[0].message, "hello log, 42 { a: 1 }");
        assert.equal(records[4].message, "multi\nline\nmessage");
        const error = records[3];
        assert.equal(error.errorType, "Error");
        assert.equal(error.errorMessage, "logged error");
        assert.equal(error.stackTrace[0], "Error: logged error");
      },
    );
  });

  Deno.test(`${runtime}: invoke errors are logged with the request id`, async () => {
    for (const format of ["Text", "JSON"]) {
      await withBootstrap(
        { runtime, handler: "handlers.throwsError", env: { AWS_LAMBDA_LOG_FORMAT: format } },
        async (b) => {
          await b.api.invoke({}, { requestId: "err-req" });
          await b.stop();
          const line = b.stderr().split("\n").find((l) => l.includes("Invoke Error"));
          assert.ok(line, b.stderr());
          if (format === "JSON") {
            const r = JSON.parse(line);
            assert.equal(r.requestId, "err-req");
            assert.equal(r.level, "ERROR");
            assert.equal(r.errorType, "TypeError");
            assert.equal(r.errorMessage, "bad input");
          } else {
            assert.match(line, /^\S+\terr-req\tERROR\tInvoke Error \t\{"errorType":"TypeError"/);
          }
        },
      );
    }
  });
}
