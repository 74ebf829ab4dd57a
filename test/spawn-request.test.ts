// What init mode asks posix_spawnp for (src/spawn-request.ts): stdio and the
// socket-activation descriptors that are open, everything above them closed,
// the terminal when pause had its foreground.
import { describe, expect, it } from 'vitest';
import { activationFds, spawnRequest } from '../src/spawn-request.ts';

const allOpen = (): boolean => true;

describe('socket activation (LISTEN_FDS)', () => {
  it.each([['1', [3]], ['3', [3, 4, 5]], [' 2 ', [3, 4]]] as const)('LISTEN_FDS=%j passes %j', (count, fds) => {
    expect(activationFds({ LISTEN_FDS: count })).toEqual(fds);
  });

  it.each([[undefined], [''], ['0'], ['-1'], ['1.5'], ['two']])('LISTEN_FDS=%j passes none', (count) => {
    expect(activationFds({ LISTEN_FDS: count })).toEqual([]);
  });
});

describe('the request', () => {
  it('without activation: stdio, and everything from 3 up closed', () => {
    expect(spawnRequest(['sleep', '1'], {}, null, allOpen)).toEqual({
      argv: ['sleep', '1'], inheritFds: [0, 1, 2], closeFrom: 3, foregroundFd: null,
    });
  });

  it('with LISTEN_FDS=2: descriptors 3 and 4 too, closing from 5', () => {
    expect(spawnRequest(['x'], { LISTEN_FDS: '2' }, null, allOpen)).toMatchObject({ inheritFds: [0, 1, 2, 3, 4], closeFrom: 5 });
  });

  it('a descriptor that is not open is not passed, and closing still starts above the activation ones', () => {
    const open = new Set([0, 2, 4]);
    expect(spawnRequest(['x'], { LISTEN_FDS: '2' }, null, (fd) => open.has(fd))).toMatchObject({ inheritFds: [0, 2, 4], closeFrom: 5 });
  });

  it('the terminal descriptor is passed on for the foreground', () => {
    expect(spawnRequest(['x'], {}, 0, allOpen).foregroundFd).toBe(0);
  });
});
