// Process tree from /proc: who descends from whom.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parseStat } from './proc-stat.ts';

/**
 * What /proc is to this process: 'own' when it is the proc of pause's own PID
 * namespace, 'absent' when none is mounted, 'foreign' when it belongs to
 * another (`unshare --pid --fork` without --mount-proc, some CI runners and
 * chroots). /proc/self is the one entry that names the reader in the
 * numbering of the /proc being read: a parent namespace's /proc names the
 * host's pid, not process.pid. Pids read from a foreign /proc mean other
 * processes here, so it is used for nothing.
 */
export type ProcState = 'own' | 'absent' | 'foreign';

export function procState(procRoot = '/proc'): ProcState {
  let self: string;
  try {
    self = readlinkSync(`${procRoot}/self`);
  } catch {
    return 'absent';
  }
  return self === String(process.pid) ? 'own' : 'foreign';
}

/** The tids of this process's threads but the main one, from a /proc of its own; none if it cannot be read. */
export function otherThreads(procRoot: string): number[] {
  try {
    return readdirSync(`${procRoot}/${process.pid}/task`).map(Number).filter((tid) => tid !== process.pid);
  } catch {
    return [];
  }
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
 * procRoot is null (no /proc of pause's own, see procState) or no /proc that
 * shows `root` (not mounted, an empty directory).
 */
export function descendantsOf(root: number, procRoot: string | null): number[] | null {
  if (procRoot === null) return null;
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
    const ppid = parseStat(stat)?.ppid;
    if (ppid === undefined) continue;
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

/**
 * What the wind-down signals once the command has exited: as PID 1, everyone
 * else in the namespace (kill(-1) spares only the caller); otherwise pause's
 * own descendants, found in `procRoot`, since kill(-1) would reach every
 * process of the host that pause may signal. Without a /proc of its own
 * (procRoot null), the command's process group, which outlives its leader
 * while any member lives. Never a /proc of another PID namespace: its pids
 * name other processes here.
 */
export function processesLeft(child: number, isPid1: boolean, procRoot: string | null): number[] {
  return isPid1 ? [-1] : descendantsOf(process.pid, procRoot) ?? [-child];
}
