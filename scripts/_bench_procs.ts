// Memory of a process tree, from /proc: what deno task bench reports as RSS.

/** The pid and every live descendant, by /proc/<pid>/task/<tid>/children. */
export function processTree(root: number): number[] {
  const tree: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    tree.push(pid);
    let tasks: Deno.DirEntry[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
    } catch {
      continue; // gone
    }
    for (const task of tasks) {
      try {
        const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
        for (const child of children.trim().split(/\s+/)) if (child) todo.push(Number(child));
      } catch { /* the thread is gone */ }
    }
  }
  return tree;
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or 0 when the process is gone. */
export function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The summed VmRSS of root's whole tree, in KiB, now. */
export function treeRssKiB(root: number): number {
  return processTree(root).reduce((kib, pid) => kib + statusKiB(pid, "VmRSS"), 0);
}

/**
 * Samples the summed VmRSS of root's whole tree every intervalMs until stopped;
 * stop() returns the highest sum seen, in KiB. Processes that live shorter than
 * the interval can be missed, so this is a lower bound on the true peak.
 */
export function sampleTreeRss(root: number, intervalMs = 5): { stop(): number } {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, treeRssKiB(root));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
