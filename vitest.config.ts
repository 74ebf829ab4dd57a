import { defineConfig } from 'vitest/config';

/**
 * Files whose work is heavy on a 2-core machine: orphan storms, signal
 * floods, the fuzzer's hundreds of starts, the benchmark, image builds,
 * containers and CRI sandboxes. Beside each other they starve one another
 * past their deadlines, so they run one at a time, after the light files.
 */
const HEAVY = [
  'test/pause.test.ts',
  'test/init-storm.test.ts',
  'test/cli-fuzz.test.ts',
  'test/bench-smoke.test.ts',
  'test/bench-density-smoke.test.ts',
  'test/cold-start.test.ts',
  'test/podman-init.test.ts',
  // debootstrap of a Debian 11 root, once per machine (cached)
  'test/glibc-floor.test.ts',
  'test/image/**/*.test.ts',
];

/** What both lanes share. */
const common = {
  // Tests run real processes, namespaces and containers: give them time.
  testTimeout: 60_000,
  hookTimeout: 300_000,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    // Once for the whole run, not per lane: checks the executable is built,
    // and measures the machine's speed for the heavy tests to size their
    // work by (test/helpers/workload.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    // The last line names each file skipped for want of a package.
    reporters: ['default', './test/helpers/skip-summary.ts'],
    projects: [
      // Two at a time on a two-core machine.
      { test: { ...common, name: 'light', include: ['test/**/*.test.ts'], exclude: HEAVY, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      // One at a time, once the light files are done.
      { test: { ...common, name: 'heavy', include: HEAVY, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
