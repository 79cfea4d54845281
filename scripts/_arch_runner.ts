// Running the other architecture's Deno on this machine: under qemu-user,
// registered with binfmt_misc, with that architecture's glibc and libgcc from
// Debian's cross packages (bash .ci/qemu_arm64 installs them for arm64). The
// build needs it to compile V8 code caches for the other architecture, whose
// Deno refuses caches compiled by this one; tests/arm64_test.ts to run the
// arm64 layers.
import { type Arch, HOST_ARCH } from "./_paths.ts";

const QEMU: Record<Arch, { binfmt: string; prefix: string; libs: [string, string][] }> = {
  arm64: {
    binfmt: "qemu-aarch64",
    prefix: "/usr/aarch64-linux-gnu",
    libs: [["ld-linux-aarch64.so.1", "libc6-arm64-cross"], [
      "libgcc_s.so.1",
      "libgcc-s1-arm64-cross",
    ]],
  },
  x86_64: {
    binfmt: "qemu-x86_64",
    prefix: "/usr/x86_64-linux-gnu",
    libs: [["ld-linux-x86-64.so.2", "libc6-amd64-cross"], [
      "libgcc_s.so.1",
      "libgcc-s1-amd64-cross",
    ]],
  },
};

/** Why arch's binaries cannot run here, or null when they can. */
export async function archProblem(arch: Arch): Promise<string | null> {
  if (arch === HOST_ARCH) return null;
  const q = QEMU[arch];
  const entry = `/proc/sys/fs/binfmt_misc/${q.binfmt}`;
  const registered = await Deno.readTextFile(entry).catch(() => "");
  if (!registered.startsWith("enabled")) {
    return `no enabled ${entry} (as root: bash .ci/qemu_arm64)`;
  }
  for (const [lib, pkg] of q.libs) {
    try {
      await Deno.stat(`${q.prefix}/lib/${lib}`);
    } catch {
      return `no ${q.prefix}/lib/${lib} (Debian package ${pkg})`;
    }
  }
  return null;
}

/** What the environment of a dynamically linked arch binary needs added. */
export function archEnv(arch: Arch): Record<string, string> {
  return arch === HOST_ARCH ? {} : { QEMU_LD_PREFIX: QEMU[arch].prefix };
}
