// A private registry for the image tests: Debian's docker-registry
// (distribution 2.8) on 127.0.0.1 only, plain HTTP, with its own configuration
// and storage under a temporary directory. Not the package's service or config.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tryKill, waitFor } from '../../helpers/process.ts';

export interface Registry {
  /** host:port, the registry part of an image reference. */
  readonly host: string;
  log(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on now (the kernel's choice for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function answers(host: string): Promise<boolean> {
  try {
    return (await fetch(`http://${host}/v2/`)).status === 200;
  } catch {
    return false;
  }
}

export async function startRegistry(): Promise<Registry> {
  const dir = mkdtempSync('/var/tmp/pause-registry-');
  const host = `127.0.0.1:${await freePort()}`;
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dir}/storage`,
    'http:',
    `  addr: ${host}`,
    '',
  ].join('\n'));
  let log = '';
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const handle: Registry = {
    host,
    log: () => log,
    async stop() {
      tryKill(child.pid ?? 0, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) tryKill(child.pid ?? 0, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  let up = false;
  const poll = async () => { up = await answers(host); };
  try {
    await waitFor(`the registry to answer on http://${host}/v2/`, () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log}`);
      void poll();
      return up;
    }, 30_000, 100);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
