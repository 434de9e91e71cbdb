// Server figures from /proc: resident memory and CPU seconds of a process and everything below it.
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux USER_HZ

export interface TreeStats {
  rssBytes: number;
  cpuS: number;
  pids: number;
}

/** RSS and CPU (user + system) summed over `roots` and all their descendants. */
export function treeStats(roots: readonly number[]): TreeStats {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const seen = new Set<number>();
  const stack = [...roots];
  let rssBytes = 0;
  let cpuS = 0;
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuS += (Number(f[11]) + Number(f[12])) / CLK_TCK;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      if (rss) rssBytes += Number(rss[1]) * 1024;
    } catch {
      // gone
    }
  }
  return { rssBytes, cpuS, pids: seen.size };
}
