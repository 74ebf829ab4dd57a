// Wire-up: argv and environment in, one mode out. Every failure ends as one
// line on stderr and a documented exit code, never a stack trace.
import { environmentOf, parseArgs, USAGE, type Config } from './cli.ts';
import type { Parsed } from './signals.ts';
import { EXIT_INTERNAL, EXIT_USAGE } from './exit-codes.ts';
import { writeStderr, writeStdout } from './log.ts';

declare const __PAUSE_VERSION__: string | undefined;
declare const __PAUSE_COMMIT__: string | undefined;
const VERSION = typeof __PAUSE_VERSION__ === 'string' ? __PAUSE_VERSION__ : 'dev';
/** Set by scripts/build.ts; empty when built outside a git work tree. */
const COMMIT = typeof __PAUSE_COMMIT__ === 'string' ? __PAUSE_COMMIT__ : '';

/**
 * `-v` prints what it always printed. `--version` adds ` - git.COMMIT`:
 * dockerd runs `INIT --version` and parseInitVersion (daemon/info_unix.go)
 * takes what follows ` - ` as the commit if it is `git.` and no other dot,
 * or else wants `tini version X`; anything else it logs as "unknown output
 * format" and `docker info` shows `init version: N/A`.
 */
function versionLine(withCommit: boolean): string {
  const line = `pause.ts ${VERSION} (node ${process.version})`;
  return withCommit && COMMIT ? `${line} - git.${COMMIT}\n` : `${line}\n`;
}

function main(): void {
  // Until init mode, which puts its own in place (src/internal-error.ts).
  process.on('uncaughtException', (error) => {
    writeStderr(`pause: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_INTERNAL);
  });
  const argv = process.argv.slice(2);
  // Only init mode reads the environment, and Node never saw it (the entry
  // stub, scripts/entry-stub.ts): it is read from where the kernel put it,
  // by src/kernel-environment.ts, which only the modes load. Without it the parse tells the
  // mode, and every error of the command line.
  const parsed = parseArgs(argv, {});
  if (parsed.ok && parsed.value.mode === 'init') {
    void import('./kernel-environment.ts').then((kernel) => run(parseArgs(argv, environmentOf(kernel.kernelEnvironment().entries))));
    return;
  }
  run(parsed);
}

function run(parsed: Parsed<Config>): void {
  if (!parsed.ok) {
    writeStderr(`pause: ${parsed.error}\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  const config = parsed.value;
  switch (config.mode) {
    case 'version':
      writeStdout(versionLine(config.withCommit));
      // Written synchronously, so nothing is lost by skipping Node's own
      // tear-down, which an exit by returning would run (~1-2 ms).
      process.exit(0);
    case 'help':
      writeStdout(USAGE);
      process.exit(0);
    case 'pause':
      // Loaded on demand: each mode loads only its own code.
      void import('./pause.ts').then((m) => m.runPause());
      return;
    case 'init':
      void import('./init.ts').then((m) => m.runInit(config.options));
      return;
  }
}

main();
