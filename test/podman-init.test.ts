// podman as the runtime, pause as its init: `podman run --init --init-path
// dist/pause` bind-mounts pause at /run/podman-init and runs it as PID 1 with
// `-- COMMAND ARGS` (seen in /proc/1/cmdline below).
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { openTerminal } from './helpers/pty.ts';
import { ensureContainersConf, importGlibcBusyboxImage, podman, podmanQuiet, withRequiredSettings } from './helpers/podman.ts';
import { childrenOf, onCleanup, readProc, run, waitFor } from './helpers/process.ts';
import { missingCommands } from './helpers/requires.ts';

const skip = missingCommands(['podman', 'runc', 'readelf', 'tar', 'busybox']);

const IMAGE = `localhost/pause-test-glibc-busybox:${process.pid}`;
const INIT = ['--init', '--init-path', PAUSE];
/** podman's default seccomp profile (containers-common). */
const PODMAN_SECCOMP = '/usr/share/containers/seccomp.json';
let serial = 0;

/** A container name unique to this run; whatever goes by it is force-removed after the test. */
function containerName(): string {
  const name = `pause-test-init-${process.pid}-${++serial}`;
  onCleanup(() => podmanQuiet(['rm', '--force', '--time', '0', name]));
  return name;
}

/** `podman run -d` of a named container, force-removed after the test. */
function runDetached(script: string): string {
  const name = containerName();
  podman(['run', '--detach', '--name', name, ...INIT, IMAGE, 'sh', '-c', script]);
  return name;
}

async function logsShow(name: string, pattern: RegExp): Promise<void> {
  await waitFor(`${pattern} in the logs of ${name}`, () => pattern.test(podman(['logs', name])), 20_000, 100);
}

describe.skipIf(skip)('podman run --init --init-path dist/pause', () => {
  beforeAll(() => {
    ensureContainersConf();
    importGlibcBusyboxImage(IMAGE, PAUSE);
  });
  afterAll(() => podmanQuiet(['rmi', '--force', IMAGE]));

  it('runs pause as PID 1 with `-- COMMAND ARGS`', async () => {
    const result = await run('podman', ['run', '--rm', ...INIT, IMAGE, 'cat', '/proc/1/cmdline']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\0')).toEqual(['/run/podman-init', '--', 'cat', '/proc/1/cmdline', '']);
  });

  it('`init_path` in containers.conf makes a plain `--init` use pause', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'containers-conf-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const conf = join(dir, 'containers.conf');
    // CONTAINERS_CONF replaces the system file, so it needs the machine's settings too.
    writeFileSync(conf, withRequiredSettings(`[containers]\ninit_path = "${PAUSE}"\n`));
    // What podman mounted at /run/podman-init (catatonit by default) says what it is.
    const result = await run('podman', ['run', '--rm', '--init', IMAGE, '/run/podman-init', '--version'], {
      env: { ...process.env, CONTAINERS_CONF: conf },
    });
    expect(result.stdout).toMatch(/^pause\.ts /);
    expect(result.code).toBe(0);
  });

  // The image's ENV is pause's too: Node starts without it (scripts/entry-stub.ts)
  // and the command gets it, with what Node would have consumed.
  it("the container's environment, Node's variables included, reaches the command and never Node", async () => {
    const variables = ['NODE_CHANNEL_FD=abc', 'NODE_REPL_EXTERNAL_MODULE=/x.js', 'NODE_UNIQUE_ID=1', 'OPENSSL_CONF=/etc/passwd', 'NODE_DEBUG=*'];
    const result = await run('podman', ['run', '--rm', ...variables.flatMap((v) => ['--env', v]), ...INIT, IMAGE,
      'sh', '-c', 'echo "$NODE_CHANNEL_FD $NODE_REPL_EXTERNAL_MODULE $NODE_UNIQUE_ID $OPENSSL_CONF $NODE_DEBUG"; exit 3']);
    expect(result).toMatchObject({ code: 3, stdout: 'abc /x.js 1 /etc/passwd *\n', stderr: '' });
  });

  it('`--preserve-fds 2` hands descriptors 3 and 4 through pause to the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pause-preserve-fds-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'in'), 'three\n');
    const input = openSync(join(dir, 'in'), 'r');
    const output = openSync(join(dir, 'out'), 'w');
    onCleanup(() => { closeSync(input); closeSync(output); });
    const result = await run('podman', ['run', '--rm', '--preserve-fds', '2', ...INIT, IMAGE, 'sh', '-c', 'cat <&3 && echo four >&4'], {
      stdio: ['ignore', 'pipe', 'pipe', input, output],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('three\n');
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('four\n');
  });

  it('`sh -c "exit 3"` makes podman run return 3', async () => {
    const result = await run('podman', ['run', '--rm', ...INIT, IMAGE, 'sh', '-c', 'exit 3']);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('');
  });

  it('a child killed by a signal makes podman run return 128+N', async () => {
    const result = await run('podman', ['run', '--rm', ...INIT, IMAGE, 'sh', '-c', 'kill -USR2 $$']);
    expect(result.code).toBe(128 + 12);
  });

  // The command's handler exits with its own code: 7 or 9, not 137 (SIGKILL after the stop timeout).
  it.each([
    ['podman kill --signal USR1', ['kill', '--signal', 'USR1'], 'USR1', 7],
    ['podman stop (SIGTERM)', ['stop', '--time', '30'], 'TERM', 9],
  ] as const)('`%s` reaches the command', async (_, action, signal, code) => {
    const name = runDetached(`trap "echo got-${signal}; exit ${code}" ${signal}; echo ready; while :; do sleep 0.1; done`);
    await logsShow(name, /ready/);
    podman([...action, name]);
    expect(podman(['wait', name]).trim()).toBe(String(code));
    expect(podman(['logs', name])).toContain(`got-${signal}`);
  });

  // podman stop SIGKILLs pause 10 s after its SIGTERM; pause's grace period
  // for the leftover counts from that SIGTERM (5 s by default), so pause is
  // done first and the command's 42 is what podman reports, not 137.
  it('`podman stop` (10 s) of a command that exits 42 on SIGTERM, beside a leftover that ignores SIGTERM: 42', async () => {
    const name = runDetached('(trap "" TERM; while :; do sleep 1; done) & trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done');
    await logsShow(name, /ready/);
    podman(['stop', name]);
    expect(podman(['wait', name]).trim()).toBe('42');
  });

  it('`podman run -it`: Ctrl-C on the terminal reaches the command (exit 130)', async () => {
    // runc makes pause the session leader of the container's terminal; pause hands its foreground to the command.
    const name = containerName();
    const term = openTerminal('podman', ['run', '--rm', '-it', '--name', name, ...INIT, IMAGE, 'sh', '-c', 'echo in-$((1+1)); exec cat']);
    await term.waitForOutput(/in-2/, 0, 20_000);
    term.write('\x03');
    expect(await term.exited).toEqual({ exitCode: 130, signal: 0 });
  });

  it('`podman run -it`: resizing the terminal reaches the command as SIGWINCH with the new size', async () => {
    const name = containerName();
    const script = 'trap "echo WINCH; stty size" WINCH; echo in-$((1+1)); while :; do sleep 0.05; done';
    const term = openTerminal('podman', ['run', '--rm', '-it', '--name', name, ...INIT, IMAGE, 'sh', '-c', script]);
    await term.waitForOutput(/in-2/, 0, 20_000);
    term.resize(101, 31);
    await term.waitForOutput(/WINCH\r?\n31 101/);
  });

  it('an orphan inside the container is re-parented to pause and reaped', async () => {
    // The subshell starts a long sleep and exits at once: the sleep is
    // orphaned, and lives until the test kills it (a short sleep could be gone
    // before a slow machine has found it).
    const name = runDetached('(sleep 1000 &); echo ready; sleep 100');
    await logsShow(name, /ready/);
    const pause = Number(podman(['inspect', '--format', '{{.State.Pid}}', name]).trim());
    const isOrphan = (pid: number): boolean => readProc(`/proc/${pid}/cmdline`) === 'sleep\x001000\x00';
    const orphan = await waitFor('the orphan as a child of pause', () => childrenOf(pause).find(isOrphan));
    process.kill(orphan, 'SIGKILL');
    // A zombie keeps its /proc entry until reaped.
    await waitFor(`orphan ${orphan} to be reaped`, () => !existsSync(`/proc/${orphan}`), 10_000, 50);
    expect(childrenOf(pause)).toHaveLength(1); // the command, still running
  });
  // A real refusal of the call that primes Node's threads (src/forwarder.ts):
  // podman's own seccomp profile less rt_tgsigqueueinfo, which then fails with
  // the profile's default error. pause says it primed none (--verbose, through
  // PAUSE_VERBOSE as --init allows no flags), and forwarding goes on: the
  // handler sends a signal from whichever thread the kernel hands it to.
  it.skipIf(!existsSync(PODMAN_SECCOMP))('with rt_tgsigqueueinfo refused by seccomp, Node\'s threads stay unprimed and a signal still reaches the command', async () => {
    const profile = JSON.parse(readFileSync(PODMAN_SECCOMP, 'utf8')) as { syscalls: { names: string[] }[] };
    for (const rule of profile.syscalls) rule.names = rule.names.filter((call) => call !== 'rt_tgsigqueueinfo');
    const dir = mkdtempSync(join(tmpdir(), 'pause-seccomp-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'seccomp.json'), JSON.stringify(profile));
    const name = containerName();
    podman(['run', '--detach', '--name', name, '--env', 'PAUSE_VERBOSE=1', '--security-opt', `seccomp=${join(dir, 'seccomp.json')}`, ...INIT, IMAGE,
      'sh', '-c', 'trap "echo got-USR2; exit 7" USR2; echo ready; while :; do sleep 0.1; done']);
    await logsShow(name, /ready/);
    podman(['kill', '--signal', 'USR2', name]);
    expect(podman(['wait', name]).trim()).toBe('7');
    const logs = await run('podman', ['logs', name]);
    expect(logs.stderr).toMatch(/pause: signals are forwarded by native code signals=\d+ nodeThreadsClosed=0\n/);
    expect(logs.stdout).toContain('got-USR2');
  });
});

describe('the containers.conf writer', () => {
  const WANTED = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n';
  it('writes both tables into an empty file', () => expect(withRequiredSettings('')).toBe(WANTED));
  it('leaves a complete file as it is', () => expect(withRequiredSettings(WANTED)).toBe(WANTED));
  it('adds a missing key under its existing table, keeping the rest', () => {
    const text = '# mine\n[engine]\ncgroup_manager = "cgroupfs"\n\n[network]\nx = 1\n';
    expect(withRequiredSettings(text)).toBe(
      '# mine\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n\n[network]\nx = 1\n\n[containers]\ndefault_ulimits = []\n',
    );
  });
  it('leaves a key that is set to something else alone', () => {
    expect(withRequiredSettings('[engine]\nruntime = "crun"\n')).toMatch(/^\[engine\]\nruntime = "crun"\n/);
  });
  it('a key in another table does not count', () => {
    expect(withRequiredSettings('[network]\nruntime = "runc"\n')).toContain('[engine]\nruntime = "runc"');
  });
  it('ensureContainersConf creates, then leaves the file untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'containers-conf-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'etc', 'containers.conf');
    ensureContainersConf(path);
    expect(readFileSync(path, 'utf8')).toBe(WANTED);
    writeFileSync(path, `${WANTED}# edited\n`);
    ensureContainersConf(path);
    expect(readFileSync(path, 'utf8')).toBe(`${WANTED}# edited\n`);
  });
});
