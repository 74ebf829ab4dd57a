// Containers for the image tests: started detached, removed after each test,
// and watched from the host through /proc.
import { inject } from 'vitest';
import { ignores, namespaceProcesses, onCleanup, readProc, waitFor } from '../../helpers/process.ts';
import { sizeByRate } from '../../helpers/workload.ts';
import { missingCommands } from '../../helpers/requires.ts';
import { pod, podQuiet } from './engine.ts';

/** Tools the tests need: in CI a missing one fails the file; elsewhere the file is skipped with the reason. */
export function skipUnless(tools: readonly string[]): string | false {
  return missingCommands(tools);
}

let serial = 0;
/** A name unique to this run, for containers and pods. */
export function uniqueName(what: string): string {
  return `pause-test-${what}-${process.pid}-${++serial}`;
}

/** `podman run -d --name NAME ARGS`, removed (with no grace period) after the test. */
export function runDetached(name: string, args: readonly string[]): string {
  onCleanup(() => podQuiet(['rm', '--force', '--time', '0', name]));
  pod(['run', '--detach', '--name', name, ...args]);
  return name;
}

/** The host's pid of a container's main process. */
export function hostPid(container: string): number {
  const pid = Number(pod(['inspect', '--format', '{{.State.Pid}}', container]).trim());
  if (!(pid > 0)) throw new Error(`${container} has no running process`);
  return pid;
}

/** The command line of a host pid, as ps would show it. */
export function commandLine(pid: number): string {
  return (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
}

/**
 * Waits until `pid` has exec'd its image's entrypoint: RunPodSandbox can
 * return while the sandbox process is still runc's init, and in the middle of
 * that exec its command line reads empty.
 */
export async function untilEntrypoint(pid: number): Promise<void> {
  await waitFor(`process ${pid} to have exec'd its entrypoint`, () => !['', 'runc init'].includes(commandLine(pid)));
}

/**
 * A busybox sh script making `count` orphans: each subshell starts a short
 * sleep in the background and exits at once, so the sleep's parent is gone and
 * the kernel hands it to PID 1 of the namespace, which must reap it when it exits.
 */
export function orphanScript(count: number): string {
  return `i=0; while [ $i -lt ${count} ]; do ( sleep 0.1 & ); i=$((i + 1)); done`;
}

/**
 * Waits until `pid` ignores SIGCHLD (17, in SigIgn): pause has then set up
 * reaping, and orphans made from now on must never linger as zombies.
 */
export async function untilReaping(pid: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(`pid ${pid} to ignore SIGCHLD`, () => ignores(pid, 17), timeoutMs, 20);
}

/**
 * The storm's 1,000 orphans at this machine's rate, for the tests' timeouts.
 * A busybox subshell and its sleep cost no more than the perl orphan the rate
 * is measured with (500 of each, side by side: 2.2 s against 2.9-3.4 s).
 */
export const CONTAINER_STORM = sizeByRate(inject('orphanRate'), { budgetMs: 0, floor: 1_000, ceiling: 1_000 });

/** Makes 1,000 orphans with `exec` and returns the PID namespace's processes 1 s later (or as soon as all are gone). */
export async function orphansLeftAfterStorm(pausePid: number, exec: (script: string) => void | Promise<void>): Promise<{ before: number; after: { pid: number; state: string }[] }> {
  await untilReaping(pausePid);
  const before = namespaceProcesses(pausePid).length;
  console.log(`storm: ${CONTAINER_STORM.summary}`);
  await exec(orphanScript(CONTAINER_STORM.count));
  // The bound is the issue's: no zombie may be left 1 s after the last orphan was made.
  const after = await waitFor('the orphans to be gone', () => {
    const now = namespaceProcesses(pausePid);
    return now.length === before && !now.some((p) => p.state === 'Z') ? now : undefined;
  }, 1_000).catch(() => namespaceProcesses(pausePid));
  return { before, after };
}
