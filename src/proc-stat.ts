// /proc/PID/stat, as proc(5) lays it out: `pid (comm) state ppid pgrp session
// tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime …`. The one
// parser of it: src/, tools/ and test/ all read the fields here. Pure.

export interface ProcStat {
  /** The command name, at most 15 bytes; it may hold spaces and ')'. */
  readonly comm: string;
  /** One letter: R, S, D, T (stopped), Z (zombie)… */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** The foreground process group of the controlling terminal; -1 without one. */
  readonly tpgid: number;
  /** Page faults that had to read from disk. */
  readonly majflt: number;
  /** CPU time in user and in kernel mode, in clock ticks. */
  readonly utime: number;
  readonly stime: number;
}

/**
 * The fields of a stat line; null when it is not one. comm is the only field
 * that may hold spaces and ')', and the kernel writes it in parentheses, so
 * the other fields are counted from the last ')'.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) return null;
  const fields = text.slice(close + 2).split(' ');
  const number = (index: number): number => Number(fields[index] ?? Number.NaN);
  const stat = {
    comm: text.slice(open + 2, close), state: fields[0] ?? '',
    ppid: number(1), pgrp: number(2), session: number(3), tpgid: number(5), majflt: number(9), utime: number(11), stime: number(12),
  };
  return stat.state.length === 1 && Number.isInteger(stat.ppid) ? stat : null;
}
