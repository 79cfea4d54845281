// Deterministic zip archives: the same files give the same bytes, whenever and
// wherever they are built. Entries are sorted, timestamps fixed at 1980-01-01,
// and Unix modes recorded so Lambda unpacks `bootstrap` and `bin/deno` as
// executables.
//
// Written by hand on node:zlib rather than with a library: npm's fflate
// (zipSync, per-file mtime and attributes) keeps the bytes deterministic and
// the modes right, but its deflate made every zip 1.4 to 3.5% larger and took
// two to three times as long (the Deno layer 6.6-7.5 s -> 10.9-15.0 s), which
// a first `deno task start` pays (docs/benchmarks.md, "What was tried").
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";

/** One file to put in an archive. */
export interface ZipEntry {
  /** Path inside the archive, with forward slashes. */
  name: string;
  data: Uint8Array;
  /** Unix permission bits, for example 0o755. */
  mode: number;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const DOS_DATE_1980 = (1 << 5) | 1; // 1980-01-01
const UTF8_NAMES = 0x0800;
const MADE_BY_UNIX = (3 << 8) | 20;
const S_IFREG = 0o100000;

/** Builds a zip archive from entries, in name order. */
export function createZip(entries: ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const sorted = [...entries].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const twice = sorted.find((e, i) => i > 0 && sorted[i - 1].name === e.name);
  if (twice) throw new Error(`Duplicate zip entry: ${twice.name}`);
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = encoder.encode(entry.name);
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);

    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, LOCAL, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, UTF8_NAMES, true);
    local.setUint16(8, 8, true);
    local.setUint16(10, 0, true);
    local.setUint16(12, DOS_DATE_1980, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, compressed.length, true);
    local.setUint32(22, entry.data.length, true);
    local.setUint16(26, name.length, true);
    locals.push(new Uint8Array(local.buffer), name, compressed);

    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, CENTRAL, true);
    central.setUint16(4, MADE_BY_UNIX, true);
    central.setUint16(6, 20, true);
    central.setUint16(8, UTF8_NAMES, true);
    central.setUint16(10, 8, true);
    central.setUint16(14, DOS_DATE_1980, true);
    central.setUint32(16, crc, true);
    central.setUint32(20, compressed.length, true);
    central.setUint32(24, entry.data.length, true);
    central.setUint16(28, name.length, true);
    central.setUint32(38, ((S_IFREG | entry.mode) << 16) >>> 0, true);
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), name);
    offset += 30 + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, END, true);
  end.setUint16(8, sorted.length, true);
  end.setUint16(10, sorted.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}

/** Reads every file of a zip archive, with its Unix mode (0o644 if none). */
export function readZip(archive: Uint8Array): ZipEntry[] {
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  let endAt = archive.length - 22;
  while (endAt >= 0 && view.getUint32(endAt, true) !== END) endAt--;
  if (endAt < 0) throw new Error("Not a zip archive: no end of central directory");
  const count = view.getUint16(endAt + 10, true);
  let at = view.getUint32(endAt + 16, true);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== CENTRAL) throw new Error("Corrupt zip: bad central directory");
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = (view.getUint32(at + 38, true) >>> 16) & 0o7777;
    const localAt = view.getUint32(at + 42, true);
    const name = decoder.decode(archive.subarray(at + 46, at + 46 + nameLength));
    const dataAt = localAt + 30 + view.getUint16(localAt + 26, true) +
      view.getUint16(localAt + 28, true);
    const raw = archive.subarray(dataAt, dataAt + size);
    if (method !== 0 && method !== 8) throw new Error(`Unsupported zip method ${method}: ${name}`);
    const data = method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw.slice();
    if (!name.endsWith("/")) entries.push({ name, data, mode: mode || 0o644 });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Unpacks a zip archive into dir, keeping modes, as Lambda unpacks layers into /opt. */
export async function unzipTo(archive: string, dir: string): Promise<void> {
  for (const entry of readZip(await Deno.readFile(archive))) {
    const path = `${dir}/${entry.name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, entry.data, { mode: entry.mode });
    await Deno.chmod(path, entry.mode);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
