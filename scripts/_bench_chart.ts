// deno task bench's chart (SVG): cold starts of the real bundles, one dot per
// start, and warm latency per contender, from the results it writes as JSON.
// Plain SVG, no library: rows of marks on a linear axis per panel.
import type { Results } from "./_bench_report.ts";
import type { Summary } from "./_bench_stats.ts";

/** A contender's colour, the same in every panel. */
const COLOURS: Record<string, string> = {
  runtime1: "#1f77b4",
  runtime2: "#ff7f0e",
  baseline: "#2ca02c",
  "node-ric": "#7f7f7f",
};
const colour = (name: string) => COLOURS[name] ?? "#9467bd";

/** One row of a panel: a label, its contender, and its samples or summary. */
interface Row {
  label: string;
  contender: string;
  samples?: number[];
  summary: Summary;
}

interface Panel {
  title: string;
  rows: Row[];
  /** A logarithmic axis, where values span orders of magnitude. */
  log?: boolean;
}

const WIDTH = 860;
const LABEL = 230; // left margin, for the rows' labels
const RIGHT = 30;
const ROW = 18;
const TITLE = 34;
const AXIS = 30;

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fixed = (v: number) => Number(v.toFixed(1));

/** About six round ticks from 0 up to max. */
function linearTicks(max: number): number[] {
  const raw = max / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

/** 1, 2 and 5 times each power of ten from min up to max. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let power = min; power <= max; power *= 10) {
    for (const m of [1, 2, 5]) if (power * m <= max) ticks.push(power * m);
  }
  return ticks;
}

/** One panel's SVG at vertical offset top; its height. */
function panelSvg(panel: Panel, top: number, out: string[]): number {
  const max = Math.max(...panel.rows.map((r) => r.summary.max)) * 1.05;
  const min = panel.log
    ? 10 ** Math.floor(Math.log10(Math.min(...panel.rows.map((r) => r.summary.min))))
    : 0;
  const plot = WIDTH - LABEL - RIGHT;
  const x = panel.log
    ? (v: number) => fixed(LABEL + (Math.log10(v / min) / Math.log10(max / min)) * plot)
    : (v: number) => fixed(LABEL + (v / max) * plot);
  const height = TITLE + panel.rows.length * ROW + AXIS;
  const bottom = top + TITLE + panel.rows.length * ROW;
  out.push(
    `<text x="10" y="${top + 22}" font-weight="bold">${escape(panel.title)}</text>`,
  );
  for (const v of panel.log ? logTicks(min, max) : linearTicks(max)) {
    out.push(
      `<line x1="${x(v)}" y1="${top + TITLE - 4}" x2="${x(v)}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x(v)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${fixed(v)}</text>`,
    );
  }
  panel.rows.forEach((row, i) => {
    const y = top + TITLE + i * ROW + ROW / 2;
    const c = colour(row.contender);
    out.push(
      `<text x="${LABEL - 8}" y="${y + 4}" text-anchor="end" font-size="12">${
        escape(row.label)
      }</text>`,
    );
    const s = row.summary;
    if (row.samples) {
      for (const v of row.samples) {
        out.push(`<circle cx="${x(v)}" cy="${y}" r="3" fill="${c}" fill-opacity="0.35"/>`);
      }
    } else {
      // min to max as a thin line, p50 to p99 as a bar.
      out.push(
        `<line x1="${x(s.min)}" y1="${y}" x2="${x(s.max)}" y2="${y}" stroke="${c}"/>`,
        `<rect x="${x(s.p50)}" y="${y - 5}" width="${fixed(x(s.p99) - x(s.p50))}" height="10" ` +
          `fill="${c}" fill-opacity="0.5"/>`,
      );
    }
    out.push(
      `<line x1="${x(s.p50)}" y1="${y - 7}" x2="${x(s.p50)}" y2="${y + 7}" stroke="#000" ` +
        `stroke-width="2"><title>${escape(row.label)}: p50 ${s.p50.toFixed(2)} ms</title></line>`,
    );
  });
  return height;
}

/** The panels the results hold. */
function panels(r: Results): Panel[] {
  const out: Panel[] = [];
  if (r.bundles?.length) {
    out.push({
      title: "Cold start of real bundles at /opt and /var/task: start → first result, ms " +
        "(a dot per start, | the median)",
      rows: r.bundles.map((b) => ({
        label: `${b.bundle} · ${b.contender}`,
        contender: b.contender,
        samples: b.responseSamples,
        summary: b.response,
      })),
    });
  }
  const names = Object.keys(r.contenders);
  if (names.length) {
    out.push({
      title: "Cold start of the echo handler, empty DENO_DIR: start → first result, ms " +
        "(line: min to max, bar: p50 to p99)",
      rows: names.map((n) => ({ label: n, contender: n, summary: r.contenders[n].cold.response })),
    });
    // One panel per event size: small and large differ by tens of times.
    const small = `${r.settings.smallEventBytes} B`;
    const large = `${(r.settings.largeEventBytes / 1e6).toFixed(1)} MB`;
    const sizes = [
      ["Warm latency of small events, handed out → result received", small, "small"],
      ["Warm latency of large events", large, "large"],
    ] as const;
    for (const [title, size, key] of sizes) {
      const cases = [
        [`${key}Idle`, `${size}, ${r.settings.gapMs} ms gap`],
        [`${key}BackToBack`, `${size}, back to back`],
      ] as const;
      out.push({
        title: `${title}, ms (log scale)`,
        log: true,
        rows: cases.flatMap(([c, what]) =>
          names.map((n) => ({
            label: `${what} · ${n}`,
            contender: n,
            summary: r.contenders[n].warm[c],
          }))
        ),
      });
    }
  }
  return out;
}

/** The chart of r as an SVG document. */
export function resultsChart(r: Results): string {
  const body: string[] = [];
  let top = 0;
  for (const panel of panels(r)) top += panelSvg(panel, top, body) + 10;
  const legend = Object.keys(COLOURS).filter((n) =>
    n in r.contenders || r.bundles?.some((b) => b.contender === n)
  );
  legend.forEach((n, i) => {
    const lx = LABEL + i * 130;
    body.push(
      `<rect x="${lx}" y="${top + 4}" width="12" height="12" fill="${colour(n)}"/>`,
      `<text x="${lx + 18}" y="${top + 14}" font-size="12">${escape(n)}</text>`,
    );
  });
  top += 30;
  const caption = `deno task bench, ${r.date.slice(0, 10)}: ${r.machine.cpu}, ` +
    `${r.machine.cores} cores; Deno ${r.machine.deno}, Node.js ${r.machine.node}`;
  body.push(`<text x="10" y="${top}" font-size="11" fill="#555">${escape(caption)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top + 10}" ` +
    `viewBox="0 0 ${WIDTH} ${top + 10}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${body.join("\n")}\n</svg>\n`;
}
