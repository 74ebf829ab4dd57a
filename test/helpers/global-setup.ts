// Once per run, before any test: the executable must be there, and the
// machine's speed at making processes is measured for the heavy tests to size
// their work by (workload.ts).
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { PAUSE } from './paths.ts';
import { measureOrphanRate, type OrphanRate } from './workload.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    orphanRate: OrphanRate;
  }
}

export default function setup(project: TestProject): void {
  if (!existsSync(PAUSE)) throw new Error(`${PAUSE} is missing: run \`npm run build\` first`);
  const rate = measureOrphanRate();
  process.stderr.write(`machine: ${Math.round(rate.perSecond)} orphans/s (${rate.sample} in ${rate.ms} ms, best of 3)\n`);
  project.provide('orphanRate', rate);
}
