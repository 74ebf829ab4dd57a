// Diagnostics, written synchronously to the raw descriptors.
//
// Never process.stdout/process.stderr: creating those streams may put the
// descriptor's open file description into O_NONBLOCK mode, and that
// description is shared with every other process in the container that writes
// to the same pipe or terminal, which then sees EAGAIN on its own writes.
import { writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type Level = 'info' | 'warn' | 'error';
export type Fields = Readonly<Record<string, string | number | boolean | null>>;

let format: LogFormat = 'text';

export function setLogFormat(next: LogFormat): void {
  format = next;
}

let verboseOn = false;

/** --verbose: whether `verbose` writes its lines. */
export function setVerbose(on: boolean): void {
  verboseOn = on;
}

/** An info line, written only under --verbose. */
export function verbose(message: string, fields?: Fields): void {
  if (verboseOn) log('info', message, fields);
}

const STDOUT = 1;
const STDERR = 2;
// A descriptor that someone else made non-blocking may refuse a write with
// EAGAIN while the reader is slow; retry a bounded number of times, then drop
// the line rather than hang PID 1 on its own diagnostics.
const EAGAIN_RETRIES = 1000;

function writeAll(fd: number, text: string): void {
  let bytes = Buffer.from(text);
  for (let retries = 0; bytes.length > 0;) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && retries++ < EAGAIN_RETRIES) continue;
      return; // EPIPE, EBADF (descriptor closed), EIO: nowhere left to report to.
    }
  }
}

/** Text exactly as given, to fd 2: pause.c's messages, usage. */
export function writeStderr(text: string): void {
  writeAll(STDERR, text);
}

/** Text exactly as given, to fd 1: --version, --help. */
export function writeStdout(text: string): void {
  writeAll(STDOUT, text);
}

/**
 * One diagnostic line: `pause: message key=value…` in text, one JSON object in
 * json. `jsonFields` go into the JSON object only: what the text already says
 * in its message.
 */
export function log(level: Level, message: string, fields: Fields = {}, jsonFields: Fields = {}): void {
  if (format === 'json') {
    writeAll(STDERR, `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...jsonFields, ...fields })}\n`);
    return;
  }
  const extra = Object.entries(fields).map(([key, value]) => ` ${key}=${String(value)}`).join('');
  writeAll(STDERR, `pause: ${message}${extra}\n`);
}
