import { configDefaults, defineConfig } from 'vitest/config';

/** Tests that read files only: they need no build, so they run without the check for dist/pause. */
const PURE = ['test/docs-links.test.ts'];

export default defineConfig({
  test: {
    // Tests run real processes, namespaces and containers: give them time,
    // and at most two files at once on a two-core machine.
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'pure', include: PURE } },
      {
        extends: true,
        test: { name: 'executable', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...PURE], globalSetup: ['test/helpers/global-setup.ts'] },
      },
    ],
  },
});
