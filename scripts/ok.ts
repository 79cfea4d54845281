// `deno task ok`: everything a change must pass before it lands, in order of
// cost: format, lint, type checks, go vet, Go tests, then the build and every
// Deno test.
const steps: [string, string[], string?][] = [
  ["deno", ["fmt", "--check"]],
  ["deno", ["lint"]],
  ["deno", ["task", "check"]],
  ["gofmt", ["-l", "."], "bootstrap"],
  ["go", ["vet", "./..."], "bootstrap"],
  ["go", ["test", "-count=1", "./..."], "bootstrap"],
  ["deno", ["task", "test"]],
];

const root = new URL("..", import.meta.url).pathname;
for (const [cmd, args, dir] of steps) {
  const label = `${dir ? `(${dir}) ` : ""}${cmd} ${args.join(" ")}`;
  console.log(`\n== ${label}`);
  const child = new Deno.Command(cmd, {
    args,
    cwd: `${root}${dir ?? ""}`,
    stdout: cmd === "gofmt" ? "piped" : "inherit",
  });
  const out = await child.output();
  const unformatted = cmd === "gofmt" ? new TextDecoder().decode(out.stdout).trim() : "";
  if (!out.success || unformatted) {
    console.error(
      `\nok: failed at ${label}${unformatted ? `: not gofmt-formatted: ${unformatted}` : ""}`,
    );
    Deno.exit(1);
  }
}
console.log("\nok: everything passed");
