// `deno task install:rie`: builds AWS's Runtime Interface Emulator at the
// version pinned in _paths.ts into .cache/, unless it is there, and prints its
// path. `deno task start` and the tests build it themselves when it is missing;
// CI runs this before the tests.
import { parseFlags, runMain } from "./_cli.ts";
import { RIE_VERSION } from "./_paths.ts";
import { ensureRie } from "./_rie.ts";

const USAGE = `Usage: deno task install:rie

Builds AWS's Runtime Interface Emulator ${RIE_VERSION} with go install into .cache/,
unless it is there already, and prints its path. It needs Go >= 1.26.6; an older go
fetches that toolchain itself.

Flags:
  -h, --help  this help`;

async function main(args: string[]): Promise<number> {
  parseFlags(args, {});
  console.log(await ensureRie());
  return 0;
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
