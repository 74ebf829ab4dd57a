// What init mode asks posix_spawnp for (src/spawn-request.ts): every
// inherited descriptor at its number, Node's own closed, everything above the
// highest inherited one closed, the terminal when pause had its foreground.
import { describe, expect, it } from 'vitest';
import { spawnRequest } from '../src/spawn-request.ts';

describe('the request', () => {
  it('stdio only: everything from 3 up closed', () => {
    expect(spawnRequest(['sleep', '1'], { inherited: [0, 1, 2], nodes: [3, 4, 5] }, null)).toEqual({
      argv: ['sleep', '1'], inheritFds: [0, 1, 2], closeFds: [], closeFrom: 3, closeAbove: [3, 4, 5], foregroundFd: null,
    });
  });

  it('inherited descriptors with gaps that Node filled: those of Node below the highest are closed one by one', () => {
    expect(spawnRequest(['x'], { inherited: [0, 1, 2, 3, 7], nodes: [4, 5, 6, 8, 9] }, null)).toMatchObject({
      inheritFds: [0, 1, 2, 3, 7], closeFds: [4, 5, 6], closeFrom: 8, closeAbove: [8, 9],
    });
  });

  it('a stdio descriptor that is not open is not passed, and closing still starts at 3', () => {
    expect(spawnRequest(['x'], { inherited: [0, 2], nodes: [1, 3] }, null)).toMatchObject({ inheritFds: [0, 2], closeFds: [1], closeFrom: 3 });
  });

  it('the terminal descriptor is passed on for the foreground', () => {
    expect(spawnRequest(['x'], { inherited: [0, 1, 2], nodes: [] }, 0).foregroundFd).toBe(0);
  });
});
