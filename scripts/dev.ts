// npm run dev -- [pause arguments]: runs the sources under the pinned Node with
// the flags the executable bakes in, without building.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SEA_EXEC_ARGV } from './sea-flags.ts';

const main = resolve(import.meta.dirname, '..', 'src', 'main.ts');
const result = spawnSync(process.execPath, [...SEA_EXEC_ARGV, '--import', 'tsx', main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = result.status ?? 128 + 15;
