// bench/helper.c, compiled at bench time when a C compiler is present. Without
// one the bench falls back: start-up is timed from Node (spawnSync) and the
// forwarding child and orphan storm are perl (Time::HiRes); the results say which.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function buildHelper(root: string, dir: string): string | null {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'helper');
  const built = spawnSync('cc', ['-O2', '-o', out, join(root, 'bench', 'helper.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return built.status === 0 ? out : null;
}

/** The forwarding child: prints "ready", then CLOCK_MONOTONIC ns per SIGUSR1 or SIGUSR2 received. */
export function receiverCommand(helper: string | null): string[] {
  if (helper) return [helper, 'recv'];
  return ['perl', '-MTime::HiRes=clock_gettime,CLOCK_MONOTONIC', '-e',
    '$| = 1; $SIG{USR1} = $SIG{USR2} = sub { printf "%.0f\\n", clock_gettime(CLOCK_MONOTONIC) * 1e9 }; print "ready\\n"; sleep 1 while 1'];
}

/** Makes `count` orphans that exit all at once; prints CLOCK_MONOTONIC ns at their release. */
export function stormCommand(helper: string | null, count: number): string[] {
  if (helper) return [helper, 'storm', String(count)];
  return ['perl', '-MPOSIX=_exit', '-MTime::HiRes=clock_gettime,CLOCK_MONOTONIC', '-e',
    `pipe(my $r, my $w) or die; my $m = fork; die unless defined $m;
     if ($m == 0) { for (1..${count}) { my $p = fork; _exit(1) unless defined $p; if ($p == 0) { close $w; sysread($r, my $b, 1); _exit(0) } } _exit(0) }
     close $r; waitpid($m, 0); exit 1 if $?; my $t = clock_gettime(CLOCK_MONOTONIC); close $w; printf "%.0f\n", $t * 1e9`];
}

/**
 * bench/c-pause.c built as Kubernetes builds its pause (`-Os -static`), or
 * null when there is no C compiler or no static C library.
 */
export function buildCPause(root: string, dir: string): string | null {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'c-pause');
  const built = spawnSync('cc', ['-Os', '-static', '-o', out, join(root, 'bench', 'c-pause.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return built.status === 0 ? out : null;
}
