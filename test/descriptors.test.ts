// src/descriptors.ts: inherited descriptors told apart from Node's own. The
// rule (classify) on made-up tables; the look (openDescriptors) on this
// process, a real Node whose own descriptors the test knows by kind.
import { fstatSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, openDescriptors, PROBE_LIMIT, type Kind, type OpenFd } from '../src/descriptors.ts';

/** A table from `fd:kind[:pipe]` words: `3:pipe:a 4:pipe:a` are both ends of pipe a. */
function table(words: string): OpenFd[] {
  return words.split(' ').map((word) => {
    const [fd = '', kind = '', id = word] = word.split(':');
    return { fd: Number(fd), kind: kind as Kind, id };
  });
}

/** Node 26.12.1 at start-up, three loops: epoll, io_uring, a pipe or two, an eventfd each. */
const NODE_FROM = (n: number): string => {
  const kinds = ['epoll', 'anonymous', 'pipe:L', 'pipe:L', 'pipe:S1', 'pipe:S1', 'anonymous',
    'epoll', 'anonymous', 'pipe:S2', 'pipe:S2', 'anonymous'];
  return kinds.map((kind, i) => `${n + i}:${kind}`).join(' ');
};

describe('classify', () => {
  it('stdio and nothing else inherited: every descriptor from 3 up is Node\'s', () => {
    const { inherited, nodes } = classify(table(`0:other 1:pipe:o 2:pipe:o ${NODE_FROM(3)}`));
    expect(inherited).toEqual([0, 1, 2]);
    expect(nodes).toEqual(Array.from({ length: 12 }, (_, i) => 3 + i));
  });

  it('descriptors below Node\'s first are inherited whatever their kind: both ends of a pipe, an eventfd', () => {
    const { inherited, nodes } = classify(table(`0:other 1:other 2:other 3:pipe:j 4:pipe:j 5:anonymous 6:other ${NODE_FROM(7)}`));
    expect(inherited).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(nodes[0]).toBe(7);
  });

  it('above Node\'s first, in the gaps it did not fill: files, sockets and single pipe ends are inherited', () => {
    // Inherited: 3 (a file), 9 (one end of a pipe), 20 (a socket, "other"), 40 (a file).
    const words = `0:other 1:other 2:other 3:other 4:epoll 5:anonymous 6:pipe:L 7:pipe:L 8:anonymous 9:pipe:p 10:anonymous 20:other 40:other`;
    const { inherited, nodes } = classify(table(words));
    expect(inherited).toEqual([0, 1, 2, 3, 9, 20, 40]);
    expect(nodes).toEqual([4, 5, 6, 7, 8, 10]);
  });

  it('the order of the table does not matter', () => {
    const words = `9:pipe:p 4:epoll 0:other 6:pipe:L 7:pipe:L 3:other`;
    expect(classify(table(words))).toEqual({ inherited: [0, 3, 9], nodes: [4, 6, 7] });
  });

  it('without /proc an epoll is only "anonymous": the lowest anonymous inode is then taken for Node\'s first', () => {
    expect(classify(table(`0:other 3:other 4:anonymous 5:pipe:L 6:pipe:L 7:anonymous 8:other`))).toEqual({ inherited: [0, 3, 8], nodes: [4, 5, 6, 7] });
  });
});

describe('openDescriptors', () => {
  it('lists this process\'s descriptors from /proc, its own directory descriptor left out', () => {
    const { fds, complete } = openDescriptors();
    expect(complete).toBe(true);
    expect(fds.map((d) => d.fd)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(fds.some((d) => d.kind === 'epoll')).toBe(true); // this Node's event loop
    // The directory readdir opened is closed before the fstat calls: no descriptor left is a directory.
    expect(fds.filter((d) => fstatSync(d.fd).isDirectory())).toEqual([]);
  });

  it('without /proc, probes the numbers below PROBE_LIMIT and says the list may be incomplete', () => {
    const withProc = openDescriptors().fds.filter((d) => d.fd < PROBE_LIMIT);
    const probed = openDescriptors('/nonexistent-proc');
    expect(probed.complete).toBe(false);
    expect(probed.fds.map((d) => d.fd)).toEqual(expect.arrayContaining(withProc.map((d) => d.fd).slice(0, 3)));
  });
});
