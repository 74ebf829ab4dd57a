// A private Docker engine for the image tests: Debian's dockerd (docker.io)
// started with its own configuration file, data root, exec root, pid file,
// socket, bridge and cgroup parent, all under a temporary directory or named
// for this process, so that it shares nothing with a daemon the machine may
// run. It writes no iptables rule and no sysctl: published ports go through
// docker-proxy, which is all a test from the host needs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { descendants, killTree, readProc, tryKill, waitFor } from '../../helpers/process.ts';
import { IN_CI } from '../../helpers/requires.ts';
import { unmountUnder } from '../../../tools/mounts.ts';

/** The tools a private dockerd needs besides podman (which holds the images). */
export const DOCKER_TOOLS = ['dockerd', 'docker', 'docker-proxy', 'ip'];

export interface Dockerd {
  /** DOCKER_HOST and DOCKER_CONFIG for the docker client: to run it by other means (a terminal). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs the docker client against this daemon; its stdout, or an error with its stderr. */
  docker(args: readonly string[], timeoutMs?: number): string;
  /** The same, for its exit status and both streams, never throwing. */
  tryDocker(args: readonly string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** Everything dockerd has logged so far. */
  log(): string;
  /** Copies an image from podman's store: docker load of podman save. */
  loadFromPodman(image: string): void;
  stop(): Promise<void>;
}

/** dockerd could not start here (no permission, no cgroups, a missing piece): the reason and its log. */
export class DockerdUnavailable extends Error {}

let serial = 0;

/** A /24 of 10.213.0.0/16 no address or route of this machine is in. */
function freeSubnet(): string {
  const used = ['addr', 'route'].map((what) => execFileSync('ip', ['-4', what, 'show'], { encoding: 'utf8' })).join('\n');
  for (let i = 0; i < 254; i++) {
    const prefix = `10.213.${((process.pid + i) % 254) + 1}`;
    if (!new RegExp(`(^|\\s)${prefix.replaceAll('.', '\\.')}\\.`, 'm').test(used)) return prefix;
  }
  throw new DockerdUnavailable('no free /24 in 10.213.0.0/16 for the bridge');
}

/** Mount points of the cgroup hierarchies (v1 and v2). */
function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' || fields[2] === 'cgroup2')
    .map((fields) => fields[1] ?? '');
}

/** Removes a cgroup directory and the cgroups below it, deepest first (rmdir only takes empty ones). */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // A process still in it; nothing more can be done from here.
  }
}

/** Processes whose command line names `dir`: dockerd's containerd and the shims, which outlive dockerd on purpose. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
    .filter((pid) => pid !== process.pid && (readProc(`/proc/${pid}/cmdline`) ?? '').includes(dir));
}

/**
 * Starts dockerd with `initPath` (if given) as the daemon's init-path and
 * waits until it answers. Throws DockerdUnavailable, having removed
 * everything it made, when it does not start.
 */
export async function startDockerd(options: { initPath?: string } = {}): Promise<Dockerd> {
  const dir = mkdtempSync('/var/tmp/pause-dockerd-');
  const name = `${process.pid}-${++serial}`;
  const bridge = `ptd${name}`.slice(0, 15);
  const cgroupParent = `pause-test-dockerd-${name}`;
  const env: Record<string, string> = { DOCKER_HOST: `unix://${dir}/docker.sock`, DOCKER_CONFIG: join(dir, 'client') };
  // The client reads DOCKER_CONTEXT and TLS settings too: none of the caller's may apply.
  const clientEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DOCKER_'))), ...env };
  let log = '';
  let dockerd: ReturnType<typeof spawn> | undefined;
  let bridgeMade = false;

  const tryDocker: Dockerd['tryDocker'] = (args, timeoutMs = 120_000) => {
    const result = spawnSync('docker', args, { env: clientEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
    return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? result.error.message : ''}` };
  };
  const docker: Dockerd['docker'] = (args, timeoutMs) => {
    const result = tryDocker(args, timeoutMs);
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.status ?? 'timed out'}): ${result.stderr}`);
    return result.stdout;
  };

  async function stop(): Promise<void> {
    const daemon = dockerd;
    const pid = daemon?.pid;
    const running = () => daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null;
    if (pid !== undefined && running()) {
      // Containers first, while the daemon still answers: at once, with no grace period.
      const ids = tryDocker(['ps', '--all', '--quiet'], 30_000).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) tryDocker(['rm', '--force', ...ids], 60_000);
      const children = descendants(pid);
      tryKill(pid, 'SIGTERM');
      await waitFor('dockerd to exit after SIGTERM', () => !running(), 30_000, 50).catch(() => killTree(pid));
      for (const child of children) killTree(child);
    }
    for (const leftover of processesNaming(dir)) killTree(leftover);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    if (bridgeMade) spawnSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
    for (const mount of cgroupMounts()) removeCgroup(join(mount, cgroupParent));
  }

  try {
    const subnet = freeSubnet();
    execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge'], { stdio: ['ignore', 'ignore', 'pipe'] });
    bridgeMade = true;
    execFileSync('ip', ['address', 'add', `${subnet}.1/24`, 'dev', bridge], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('ip', ['link', 'set', bridge, 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
    mkdirSync(join(dir, 'client'));
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify({
      'data-root': join(dir, 'data'),
      'exec-root': join(dir, 'exec'),
      pidfile: join(dir, 'dockerd.pid'),
      hosts: [env['DOCKER_HOST']],
      // Not /etc/docker/key.json, the default.
      'deprecated-key-path': join(dir, 'key.json'),
      bridge,
      'cgroup-parent': `/${cgroupParent}`,
      iptables: false,
      'ip-forward': false,
      'ip-masq': false,
      ...(options.initPath ? { 'init-path': options.initPath } : {}),
      'log-level': 'warn',
    }, null, 2));
    const child = spawn('dockerd', ['--config-file', join(dir, 'daemon.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    dockerd = child;
    child.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    child.on('error', (error) => { log += `${error.message}\n`; });
    await waitFor('dockerd to answer on its socket (docker version)', () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode})`);
      return existsSync(join(dir, 'docker.sock')) && tryDocker(['version', '--format', '{{.Server.Version}}'], 30_000).status === 0;
    }, 90_000, 250);
  } catch (error) {
    await stop();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new DockerdUnavailable(`dockerd did not start: ${(error as Error).message}${stderr ? `: ${stderr}` : ''}\n${log}`);
  }

  return {
    env,
    docker,
    tryDocker,
    log: () => log,
    loadFromPodman(image: string) {
      const archive = join(dir, 'image.tar');
      execFileSync('podman', ['save', '--format', 'docker-archive', '--output', archive, image], { stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        docker(['load', '--input', archive]);
      } finally {
        rmSync(archive, { force: true });
      }
    },
    stop,
  };
}

/**
 * For a describe block: before its tests, starts a private dockerd and runs
 * `setup` with it (loading images, say); after them, stops it and removes all
 * it made. Where dockerd cannot start, each test is skipped with the reason,
 * and in CI (which installs docker.io) the tests fail with it instead.
 * Returns the daemon, for the tests to use.
 */
export function useDockerd(options: { initPath?: string }, setup: (engine: Dockerd) => void | Promise<void>, timeoutMs: number): () => Dockerd {
  let engine: Dockerd | undefined;
  let unavailable: string | undefined;
  beforeAll(async () => {
    try {
      engine = await startDockerd(options);
    } catch (error) {
      if (!(error instanceof DockerdUnavailable) || IN_CI) throw error;
      unavailable = error.message;
      process.stderr.write(`docker tests skipped: ${unavailable}\n`);
      return;
    }
    await setup(engine);
  }, timeoutMs);
  afterAll(async () => {
    await engine?.stop();
  }, 120_000);
  beforeEach((context) => {
    if (unavailable !== undefined) context.skip(`dockerd cannot start here: ${unavailable.split('\n')[0]}`);
  });
  return () => {
    if (!engine) throw new Error('dockerd is not running: the setup before the tests failed (see above)');
    return engine;
  };
}
