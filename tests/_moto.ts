// A real AWS API emulator for the deploy tests: moto's server mode (PyPI
// package moto[server], installed by .ci/run), started per test on a free
// loopback port, and the deploy script run against it as a child process.
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { ROOT } from "../scripts/_paths.ts";
import { collect } from "../scripts/_processes.ts";

/** The account moto answers as. */
export const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };
/** How long moto may take to say it is listening before the test fails. */
const START_TIMEOUT_MS = 30_000;

/** A running moto server and clients that talk to it. */
export interface Moto {
  endpoint: string;
  lambda: LambdaClient;
  s3: S3Client;
  iam: IAMClient;
}

/** What a deploy run printed, and how it ended. */
export interface DeployRun {
  code: number;
  stdout: string;
  stderr: string;
}

const RUNNING = /Running on (http:\/\/127\.0\.0\.1:\d+)/;

/** Resolves with moto's address once it says it is listening; rejects if it exits or is slow. */
function listening(log: string[], printed: Promise<string>, exited: Promise<unknown>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`moto did not start within ${START_TIMEOUT_MS / 1000} s:\n${log.join("")}`),
        ),
      START_TIMEOUT_MS,
    );
  });
  const died = exited.then(() => {
    throw new Error(
      "moto exited before it was ready (is moto[server] installed? .ci/run installs it):\n" +
        log.join(""),
    );
  });
  return Promise.race([printed, timeout, died]).finally(() => clearTimeout(timer));
}

/**
 * Starts moto on a free loopback port, runs fn, and always stops it; moto's log
 * is shown if fn failed. `env` is added to moto's environment.
 */
export async function withMoto(
  fn: (moto: Moto) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const child = new Deno.Command("python3", {
    args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  let printed!: (endpoint: string) => void;
  const endpointPrinted = new Promise<string>((resolve) => printed = resolve);
  const onChunk = () => {
    const match = log.join("").match(RUNNING);
    if (match) printed(match[1]);
  };
  const reading = Promise.all([
    collect(child.stdout, log, onChunk),
    collect(child.stderr, log, onChunk),
  ]);
  let moto: Moto | undefined;
  try {
    const endpoint = await listening(log, endpointPrinted, child.status);
    const config = { endpoint, region: REGION, credentials: CREDENTIALS };
    moto = {
      endpoint,
      lambda: new LambdaClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      iam: new IAMClient(config),
    };
    await fn(moto);
  } catch (err) {
    console.error(`--- moto log ---\n${log.join("")}`);
    throw err;
  } finally {
    moto?.lambda.destroy();
    moto?.s3.destroy();
    moto?.iam.destroy();
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await reading;
  }
}

/**
 * The whole environment of a process that talks to moto as AWS: its address,
 * fake credentials and region, and no way to reach a real account's (no
 * profile files, no instance metadata). `env` adds or (as undefined) removes.
 */
export function motoEnv(
  moto: Pick<Moto, "endpoint"> | undefined,
  env: Record<string, string | undefined> = {},
): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: Deno.env.get("PATH"),
    HOME: Deno.env.get("HOME") ?? "/root",
    DENO_DIR: Deno.env.get("DENO_DIR"),
    NO_COLOR: "1",
    AWS_CONFIG_FILE: `${ROOT}/dist/no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${ROOT}/dist/no-aws-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: moto?.endpoint,
    ...env,
  };
  return Object.fromEntries(
    Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** Runs the deploy script with args against moto (or no AWS at all), to its end. */
export async function deploy(
  moto: Moto | undefined,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<DeployRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}/scripts/deploy.ts`, ...args],
    cwd: ROOT,
    clearEnv: true,
    env: motoEnv(moto, env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}
