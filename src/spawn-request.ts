// What the command is spawned with: its argv, the descriptors it keeps, the
// terminal it is given. Pure: which descriptors are open is the caller's to say.
import type { Environment } from './cli.ts';
import type { SpawnRequest } from './libc.ts';

const STDIO = [0, 1, 2] as const;
/** sd_listen_fds(3): socket-activation descriptors start at 3. */
const SD_LISTEN_FDS_START = 3;

/** The descriptors socket activation passed: LISTEN_FDS of them, from 3 up. */
export function activationFds(env: Environment): number[] {
  const count = Number(env['LISTEN_FDS'] ?? '0');
  return Number.isInteger(count) && count > 0
    ? Array.from({ length: count }, (_, i) => SD_LISTEN_FDS_START + i)
    : [];
}

/**
 * The command `argv` with stdio and the activation descriptors (those of them
 * that `isOpen`), and the foreground of the terminal on `foregroundFd` if not null.
 */
export function spawnRequest(
  argv: readonly string[], env: Environment, foregroundFd: number | null, isOpen: (fd: number) => boolean,
): SpawnRequest {
  const activation = activationFds(env);
  return {
    argv,
    inheritFds: [...STDIO, ...activation].filter(isOpen),
    // Nothing else of ours: not Node's descriptors, nor any other that was
    // open when pause started without being meant for the command.
    closeFrom: SD_LISTEN_FDS_START + activation.length,
    foregroundFd,
  };
}
