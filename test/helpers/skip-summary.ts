// A vitest reporter that ends the run with one line naming each test file
// that skipped tests for want of a command, and the Debian package to
// install (requires.ts marks each such skip on the console).
import type { Reporter, TestModule } from 'vitest/node';
import type { UserConsoleLog } from 'vitest';
import { SKIP_MARK, type Skip } from './requires.ts';

export default class SkipSummary implements Reporter {
  private readonly skips = new Map<string, Set<string>>();

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      if (!line.startsWith(SKIP_MARK)) continue;
      const skip = JSON.parse(line.slice(SKIP_MARK.length)) as Skip;
      const missing = this.skips.get(skip.file) ?? new Set<string>();
      for (const item of skip.missing) missing.add(item);
      this.skips.set(skip.file, missing);
    }
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    if (this.skips.size === 0) return;
    const files = [...this.skips].map(([file, missing]) => `${file} (missing ${[...missing].join(', ')})`);
    process.stdout.write(`Skipped for want of a package: ${files.join('; ')}. Install them with apt-get, or run \`npm run test:all\`.\n`);
  }
}
