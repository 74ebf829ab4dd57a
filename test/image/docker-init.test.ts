// Docker as the runtime, pause as its init: with `init-path` set to
// dist/pause (daemon.json), `docker run --init` bind-mounts it at
// /sbin/docker-init and runs it as PID 1 with `-- COMMAND ARGS`. dockerd also
// runs it with --version for `docker info`. The image must hold the libraries
// pause is linked against: one made of busybox and those (as for podman's
// --init), and one without them, busybox-static alone, where Docker cannot
// start it.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAUSE } from '../helpers/paths.ts';
import { importGlibcBusyboxImage } from '../helpers/podman.ts';
import { openTerminal } from '../helpers/pty.ts';
import { childrenOf, onCleanup, readProc, run, tryKill, waitFor } from '../helpers/process.ts';
import { skipUnless, uniqueName } from './helpers/containers.ts';
import { DOCKER_TOOLS, useDockerd } from './helpers/dockerd.ts';
import { podQuiet } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'tar', ...DOCKER_TOOLS]);
const GLIBC_IMAGE = `localhost/pause-test-docker-glibc:${process.pid}`;
/** A process that outlives the command unless SIGKILLed (its sleeps die of SIGTERM; it does not). */
const LEFTOVER_IGNORING_TERM = '(trap "" TERM; while :; do sleep 1; done) &';
/** How long a container may take to show what it was asked to, on a slow, shared machine. */
const CONTAINER_MS = 60_000;

describe.skipIf(skip)('docker run --init, with init-path set to dist/pause', () => {
  const engine = useDockerd({ initPath: PAUSE }, (dockerd) => {
    ensureImages();
    importGlibcBusyboxImage(GLIBC_IMAGE, PAUSE);
    try {
      dockerd.loadFromPodman(GLIBC_IMAGE);
    } finally {
      podQuiet(['rmi', '--force', GLIBC_IMAGE]);
    }
    dockerd.loadFromPodman(BUSYBOX_IMAGE);
  }, IMAGES_TIMEOUT_MS);

  const docker = (args: readonly string[]) => engine().docker(args);

  /** `docker run -d --init` of a named container running `script`; removed after the test. */
  function runDetached(script: string): string {
    const name = uniqueName('docker-init');
    onCleanup(() => { engine().tryDocker(['rm', '--force', name]); });
    docker(['run', '--detach', '--init', '--name', name, GLIBC_IMAGE, 'sh', '-c', script]);
    return name;
  }

  async function logsShow(name: string, pattern: RegExp): Promise<void> {
    await waitFor(`${pattern} in docker logs ${name}`, () => pattern.test(docker(['logs', name])), CONTAINER_MS, 200);
  }

  it('docker info shows the commit pause --version names, and dockerd logs no parse warning', async () => {
    const version = await run(PAUSE, ['--version']);
    const commit = / - git\.(\S+)\n$/.exec(version.stdout)?.[1];
    if (commit === undefined) throw new Error(`${PAUSE} --version names no commit (${JSON.stringify(version.stdout)}): was it built outside a git work tree?`);
    const info = docker(['info']);
    expect(info).toMatch(new RegExp(`^\\s*Init Binary: ${PAUSE}$`, 'm'));
    expect(info).toMatch(new RegExp(`^\\s*init version: ${commit}$`, 'm'));
    expect(engine().log()).not.toMatch(/failed to (parse|retrieve) .* version/i);
  });

  it('runs pause as PID 1, as /sbin/docker-init -- COMMAND, named pause', () => {
    const out = docker(['run', '--rm', '--init', GLIBC_IMAGE, 'sh', '-c', 'cat /proc/1/comm; tr "\\0" " " < /proc/1/cmdline']);
    expect(out).toBe('pause\n/sbin/docker-init -- sh -c cat /proc/1/comm; tr "\\0" " " < /proc/1/cmdline ');
  });

  it.each([
    ['`exit 3` makes docker run return 3', 'exit 3', 3],
    ['death by SIGUSR2 makes docker run return 128+12', 'kill -USR2 $$', 140],
  ])('%s', (_, script, code) => {
    const result = engine().tryDocker(['run', '--rm', '--init', GLIBC_IMAGE, 'sh', '-c', script]);
    expect(result.status, result.stderr).toBe(code);
  });

  // The command's handler exits with its own code: 7 or 9, not 137 (SIGKILL after the stop timeout).
  it.each([
    ['docker kill -s USR1', ['kill', '--signal', 'USR1'], 'USR1', 7],
    ['docker stop (SIGTERM)', ['stop', '--time', '30'], 'TERM', 9],
  ] as const)('`%s` reaches the command through pause', async (_, action, signal, code) => {
    const name = runDetached(`trap "echo got-${signal}; exit ${code}" ${signal}; echo ready; while :; do sleep 0.1; done`);
    await logsShow(name, /ready/);
    docker([...action, name]);
    expect(docker(['wait', name]).trim()).toBe(String(code));
    expect(docker(['logs', name])).toContain(`got-${signal}`);
  });

  // docker stop SIGKILLs pause 10 s after its SIGTERM; pause's grace period
  // for the leftover counts from that SIGTERM (5 s by default), so pause is
  // done first and the command's 42 is what docker reports, not 137.
  it('`docker stop` (10 s) of a command that exits 42 on SIGTERM, beside a leftover that ignores SIGTERM: 42', async () => {
    const name = runDetached(`${LEFTOVER_IGNORING_TERM} trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done`);
    await logsShow(name, /ready/);
    docker(['stop', name]);
    expect(docker(['wait', name]).trim()).toBe('42');
  });

  it('an orphan in the container is re-parented to pause and reaped when it dies', async () => {
    // The subshell starts a long sleep in the background and exits at once:
    // the sleep is orphaned, and lives until this test kills it.
    const name = runDetached('(sleep 1000 &); echo ready; exec sleep 1001');
    await logsShow(name, /ready/);
    const pause = Number(docker(['inspect', '--format', '{{.State.Pid}}', name]).trim());
    const isOrphan = (pid: number): boolean => readProc(`/proc/${pid}/cmdline`) === 'sleep\x001000\x00';
    const orphan = await waitFor(`the orphan (sleep 1000) as a child of pause (pid ${pause})`, () => childrenOf(pause).find(isOrphan), CONTAINER_MS);
    tryKill(orphan, 'SIGKILL');
    // A zombie keeps its /proc entry until it is reaped.
    await waitFor(`the killed orphan ${orphan} to be reaped by pause`, () => !existsSync(`/proc/${orphan}`), CONTAINER_MS, 50);
    const left = childrenOf(pause).map((pid) => readProc(`/proc/${pid}/cmdline`));
    expect(left).toEqual(['sleep\x001001\x00']);
  });

  it('`docker run -it`: Ctrl-C on the terminal ends the command, and docker run returns 130', async () => {
    const name = uniqueName('docker-init-tty');
    onCleanup(() => { engine().tryDocker(['rm', '--force', name]); });
    const term = openTerminal('docker', ['run', '--rm', '-it', '--init', '--name', name, GLIBC_IMAGE, 'sh', '-c', 'echo in-$((1+1)); exec cat'], engine().env);
    await term.waitForOutput(/in-2/, 0, CONTAINER_MS);
    term.write('\x03');
    expect(await term.exited).toEqual({ exitCode: 130, signal: 0 });
  });

  // The file is there (bind-mounted); the loader its ELF header names is not,
  // so execve fails with ENOENT inside the started container, which exits 1.
  it('in an image without its loader and libraries (busybox-static alone), docker run fails with exit 1 at the exec of /sbin/docker-init', () => {
    const result = engine().tryDocker(['run', '--rm', '--init', BUSYBOX_IMAGE, 'true']);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 1, stderr: 'exec /sbin/docker-init: no such file or directory\n' });
  });
});
