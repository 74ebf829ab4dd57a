// A private containerd for the CRI test and the density bench: Debian's
// containerd 1.6 started with its own config, root, state and socket under a
// temporary directory, so it shares nothing with a containerd the machine may run.
// No vitest in here (the bench runs outside the test runner).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProc, tryKill, waitFor } from '../procs.ts';
import { unmountUnder } from '../mounts.ts';

export interface Containerd {
  readonly dir: string;
  readonly socket: string;
  /** Everything containerd has logged so far, for failure messages. */
  log(): string;
  /** Copies a podman image into containerd's k8s.io namespace, where the CRI plugin looks. */
  importImage(image: string): void;
  /** Pids of the containerd-shim-runc-v2 processes this containerd started (one per sandbox). */
  shims(): number[];
  /** `ctr images import` of an OCI archive into the k8s.io namespace, named BASENAME:TAG; `--all-platforms` with allPlatforms. */
  importArchive(archive: string, baseName: string, options?: { allPlatforms?: boolean }): void;
  /** `ctr` against this containerd, in the k8s.io namespace. */
  ctr(args: string[]): string;
  stop(): Promise<void>;
}

/**
 * The configuration is what these machines need: no CAP_SYS_RESOURCE, so no
 * negative oom_score_adj (restrict_oom_score_adj); no AppArmor; cgroupfs, not
 * systemd; no CNI (pods use the node's network). `sandbox_image` is the image under test.
 * Registries in `plainHttp` (host:port) are reached over HTTP: one hosts.toml each
 * under config_path, as containerd 1.6+ reads registry settings.
 */
function config(dir: string, sandboxImage: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"

[grpc]
  address = "${dir}/containerd.sock"

[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni/bin"
    conf_dir = "${dir}/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${dir}/certs.d"
`;
}

function writeRegistryHosts(dir: string, plainHttp: readonly string[]): void {
  for (const host of plainHttp) {
    mkdirSync(join(dir, 'certs.d', host), { recursive: true });
    writeFileSync(join(dir, 'certs.d', host, 'hosts.toml'), `server = "http://${host}"

[host."http://${host}"]
  capabilities = ["pull", "resolve"]
`);
  }
}

export async function startContainerd(sandboxImage: string, { plainHttp = [] }: { plainHttp?: readonly string[] } = {}): Promise<Containerd> {
  const dir = mkdtempSync('/var/tmp/pause-containerd-');
  const socket = join(dir, 'containerd.sock');
  writeFileSync(join(dir, 'config.toml'), config(dir, sandboxImage));
  writeRegistryHosts(dir, plainHttp);
  mkdirSync(join(dir, 'logs'));
  let log = '';
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));

  const ctr = (args: string[]): string => execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  const handle: Containerd = {
    dir,
    socket,
    log: () => log,
    ctr,
    importImage(image: string) {
      const archive = join(dir, `image-${readdirSync(dir).length}.tar`);
      execFileSync('podman', ['save', '--format', 'oci-archive', '--output', archive, image], { stdio: 'ignore' });
      handle.importArchive(archive, image.replace(/:[^:/]+$/, ''));
      rmSync(archive);
    },
    shims: () => shimPids(socket),
    importArchive(archive, baseName, { allPlatforms = false } = {}) {
      // The archive names its manifest with a tag (or a full reference); --base-name makes it BASENAME:TAG.
      ctr(['images', 'import', '--base-name', baseName, ...(allPlatforms ? ['--all-platforms'] : []), archive]);
    },
    async stop() {
      // Shims outlive containerd on purpose (so containers survive its restart): end ours too.
      const shims = shimPids(socket);
      tryKill(child.pid ?? 0, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) tryKill(child.pid ?? 0, 'SIGKILL');
      for (const pid of [...shims, ...shimPids(socket)]) tryKill(pid, 'SIGKILL');
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('containerd to listen', () => existsSync(socket) && child.exitCode === null, 30_000, 50);
  } catch (error) {
    await handle.stop();
    throw new Error(`containerd did not start: ${(error as Error).message}\n${log}`);
  }
  return handle;
}

/** containerd-shim-runc-v2 processes started for the containerd at `socket`. */
function shimPids(socket: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    const args = (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0');
    return (args[0] ?? '').endsWith('containerd-shim-runc-v2') && args.includes(socket);
  });
}
