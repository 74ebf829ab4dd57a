// How much process creation this machine does per second, and the work the
// heavy tests do sized by it. Machines of the same kind differ several times
// over in what a fork+exit costs (≈0.5 ms on one, ≈2.6–5 ms on another), so a
// storm of a fixed 5,000 orphans that takes 5 s on one runs past the test's
// timeout on the other. The rate is measured once, at the start of the run
// (global-setup.ts), with the very script the storms use; each heavy test then
// takes as many orphans as fit its time budget, never fewer than a floor that
// keeps the test meaningful, and derives its deadlines from the same rate.
// No vitest in here: global set-up imports it.
import { spawnSync } from 'node:child_process';

/** One orphan: the child forks a grandchild and exits at once; the grandchild is re-parented to the reaper. */
const ORPHAN_LOOP = 'for (1..$n) { my $p = fork; die "fork: $!" unless defined $p; if ($p == 0) { fork; exit 0 } waitpid($p, 0) }';

/** A perl one-liner that makes `count` orphans (two forks and two exits each). */
export function orphanStormScript(count: number): string {
  return `perl -e 'my $n = ${count}; ${ORPHAN_LOOP}'`;
}

export interface OrphanRate {
  /** Orphans per second that orphanStormScript makes on this machine. */
  readonly perSecond: number;
  /** The measurement: how many orphans, in how many milliseconds. */
  readonly sample: number;
  readonly ms: number;
}

/**
 * Measures the orphan rate: the storm script, timed by perl itself (perl's
 * own start-up is not in it), as PID 1 of a new PID namespace (`unshare`'s
 * child is the namespace's init: the orphans are its to reap, not the host's).
 * The best of three samples: the machine's speed, not a passing hiccup.
 */
export function measureOrphanRate(sample = 200): OrphanRate {
  const timed = `perl -MTime::HiRes=time -e 'my $n = ${sample}; my $t = time; ${ORPHAN_LOOP}; printf "%d\\n", (time - $t) * 1000'`;
  const runs = Array.from({ length: 3 }, () => {
    const result = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', timed], { encoding: 'utf8' });
    const ms = Number(result.stdout.trim());
    if (result.status !== 0 || !(ms > 0)) {
      throw new Error(`cannot measure the orphan rate (unshare + perl, exit ${result.status}): ${result.stderr.trim() || result.error?.message}`);
    }
    return ms;
  });
  const ms = Math.min(...runs);
  return { perSecond: sample / (ms / 1000), sample, ms };
}

export interface Sizing {
  /** How long the work should take at the measured rate. */
  readonly budgetMs: number;
  /** The least work that still makes the test mean something. */
  readonly floor: number;
  /** Enough: more proves nothing more (the counts the tests had on a fast machine). */
  readonly ceiling: number;
  /**
   * How many times slower the test makes orphans than the measurement did,
   * when it loads the machine itself (a signal flood beside the storm): a
   * figure measured for that test, stated where it is passed. 1 by default.
   */
  readonly slowdown?: number;
}

export interface Sized {
  readonly count: number;
  /** What `count` orphans take at the measured rate. */
  readonly expectedMs: number;
  /** A deadline for that work: SLACK times the expected time, plus FIXED_MS for start-up and the other tests beside it. */
  readonly deadlineMs: number;
  /** One line for the test's output: what was measured, what was chosen. */
  readonly summary: string;
}

/**
 * How far the machine may slow down between the measurement and the test
 * (another test file beside it, the CI machine's neighbours) before a
 * deadline is missed. Measured: with one core kept busy and other work
 * starting on the machine after the measurement (load average 17-24 on two
 * cores), a storm sized for 15 s took 74.7 s and one of 11 s took 48 s, so
 * 4× plus 15 s was barely enough; 6× plus 30 s leaves room above that.
 */
export const SLACK = 6;
const FIXED_MS = 30_000;

/** The count of orphans that fits `sizing` at `rate`, and the deadline that goes with it. */
export function sizeByRate(rate: OrphanRate, sizing: Sizing): Sized {
  const perSecond = rate.perSecond / (sizing.slowdown ?? 1);
  const fits = Math.floor((perSecond * sizing.budgetMs) / 1000);
  const count = Math.max(sizing.floor, Math.min(sizing.ceiling, fits));
  const expectedMs = Math.ceil((count / perSecond) * 1000);
  const deadlineMs = expectedMs * SLACK + FIXED_MS;
  const slower = sizing.slowdown === undefined ? '' : `, ${sizing.slowdown}× slower in this test`;
  const summary = `${count} orphans: the machine makes ${Math.round(rate.perSecond)}/s ` +
    `(${rate.sample} in ${rate.ms} ms${slower}), so ≈${(expectedMs / 1000).toFixed(1)} s; deadline ${(deadlineMs / 1000).toFixed(0)} s`;
  return { count, expectedMs, deadlineMs, summary };
}

/**
 * How many times longer a start from a cold page cache in a memory-limited
 * cgroup took here than a warm start: 32 MiB, pause mode, a disk with 8 MiB
 * of read-ahead (this machine's): 4.7–19 s against 40–100 ms warm, with
 * other work on the machine (docs/benchmarks.md, "The start-up window and
 * small pods").
 */
export const COLD_OVER_WARM = 200;

/** A deadline for a cold start, from a warm start measured on this machine. */
export function coldStartDeadline(warmMs: number): Sized {
  const expectedMs = Math.ceil(warmMs * COLD_OVER_WARM);
  const deadlineMs = expectedMs * SLACK + FIXED_MS;
  return { count: 1, expectedMs, deadlineMs, summary: `a warm start took ${Math.round(warmMs)} ms here, so a cold one ≈${(expectedMs / 1000).toFixed(1)} s; deadline ${(deadlineMs / 1000).toFixed(0)} s` };
}
