// Wire-up: argv and environment in, one mode out. Every failure ends as one
// line on stderr and a documented exit code, never a stack trace.
import { parseArgs, USAGE } from './cli.ts';
import { EXIT_INTERNAL, EXIT_USAGE } from './exit-codes.ts';
import { writeStderr, writeStdout } from './log.ts';

declare const __PAUSE_VERSION__: string | undefined;
const VERSION = typeof __PAUSE_VERSION__ === 'string' ? __PAUSE_VERSION__ : 'dev';

function main(): void {
  process.on('uncaughtException', (error) => {
    writeStderr(`pause: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_INTERNAL);
  });
  const parsed = parseArgs(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    writeStderr(`pause: ${parsed.error}\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  const config = parsed.value;
  switch (config.mode) {
    case 'version':
      writeStdout(`pause.ts ${VERSION} (node ${process.version})\n`);
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
