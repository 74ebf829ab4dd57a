// What the command is spawned with: its argv, the descriptors it keeps, the
// terminal it is given. Pure: which descriptors are whose is the caller's to say.
import type { Descriptors } from './descriptors.ts';
import type { SpawnRequest } from './libc-spawn.ts';

/** stdio is 0, 1 and 2: descriptors up to this one are closed or passed one by one. */
const HIGHEST_STDIO = 2;

/**
 * The command `argv` with every inherited descriptor (stdio among them, and so
 * socket activation's LISTEN_FDS from 3 up) at its own number, none of Node's,
 * and the foreground of the terminal on `foregroundFd` if not null.
 */
export function spawnRequest(argv: readonly string[], descriptors: Descriptors, foregroundFd: number | null): SpawnRequest {
  const closeFrom = Math.max(HIGHEST_STDIO, ...descriptors.inherited) + 1;
  return {
    argv,
    inheritFds: descriptors.inherited,
    // Node opens each of its own close-on-exec: closing them here makes that
    // explicit. Whatever is opened after the look is above closeFrom, or in
    // a gap between inherited ones and then close-on-exec, as all Node opens.
    closeFds: descriptors.nodes.filter((fd) => fd < closeFrom),
    closeFrom,
    // Where closefrom is missing (glibc < 2.34), Node's own above it, one by one.
    closeAbove: descriptors.nodes.filter((fd) => fd >= closeFrom),
    foregroundFd,
  };
}
