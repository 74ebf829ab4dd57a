// The container engine the image tests drive: podman from Debian, configured by
// test/helpers/podman.ts as these machines need. A missing tool fails the run in
// CI and skips it elsewhere.
import { spawnSync } from 'node:child_process';
import { hasCommand } from '../../../tools/procs.ts';

export { ensureContainersConf, podman as pod, podmanQuiet as podQuiet } from '../../helpers/podman.ts';

export const IN_CI = process.env.CI === 'true';

/** Why the image tests cannot run here, or undefined when they can. */
export function missingTools(tools: readonly string[]): string | undefined {
  const missing = tools.filter((tool) => !hasCommand(tool));
  return missing.length ? `missing ${missing.join(', ')} (apt-get install the Debian packages that hold them)` : undefined;
}

/** A container's log, both streams (podman logs writes the container's stderr to its own). */
export function containerLog(name: string): string {
  const result = spawnSync('podman', ['logs', name], { encoding: 'utf8', timeout: 60_000 });
  return `${result.stdout}${result.stderr}`;
}
