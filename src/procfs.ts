// Process tree from /proc: who descends from whom.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The parent pid from the text of /proc/PID/stat. The second field is the
 * command name in parentheses and may itself contain spaces and ')', so the
 * fields are counted from the last ')'.
 */
export function parentFromStat(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/**
 * False only when the kernel's own lists (/proc/PID/task/TID/children) say
 * that pid has no child, and so no descendant: then nothing needs reading
 * every process of the host, which costs tens of milliseconds on a busy one.
 */
function mayHaveChildren(pid: number, procRoot: string): boolean {
  try {
    for (const tid of readdirSync(`${procRoot}/${pid}/task`)) {
      if (readFileSync(`${procRoot}/${pid}/task/${tid}/children`, 'latin1').trim() !== '') return true;
    }
    return false;
  } catch {
    return true; // no such lists (CONFIG_PROC_CHILDREN off) or a thread gone: look the long way
  }
}

/**
 * Every live process below `root` in the tree (not `root` itself); null when
 * procRoot is no /proc that shows `root` (not mounted, an empty directory, or
 * another PID namespace's).
 */
export function descendantsOf(root: number, procRoot = '/proc'): number[] | null {
  if (!mayHaveChildren(root, procRoot)) return [];
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return null;
  }
  if (!entries.includes(String(root))) return null;
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`${procRoot}/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    const ppid = parentFromStat(stat);
    if (ppid === null) continue;
    const siblings = children.get(ppid);
    if (siblings) siblings.push(Number(entry));
    else children.set(ppid, [Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
