// The container engine the image tests drive: podman from Debian, configured by
// test/helpers/podman.ts as these machines need.
import { spawnSync } from 'node:child_process';

export { ensureContainersConf, podman as pod, podmanQuiet as podQuiet } from '../../helpers/podman.ts';

/** A container's log, both streams (podman logs writes the container's stderr to its own). */
export function containerLog(name: string): string {
  const result = spawnSync('podman', ['logs', name], { encoding: 'utf8', timeout: 60_000 });
  return `${result.stdout}${result.stderr}`;
}
