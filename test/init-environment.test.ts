// The environment pause is given belongs to the command. Node and its OpenSSL
// read many variables while they start, before pause's first line; the entry
// stub (scripts/entry-stub.ts) hides them all from Node. For each variable
// Node 26.12.1, its OpenSSL, ICU and simdutf read at start (and the internal
// ones): the command still sees it unchanged and its status comes out, pause
// prints nothing, pause mode starts and stops as always, nothing is written.
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpreterOf } from '../scripts/elf.ts';
import { makeRoot } from './helpers/chroot.ts';
import { PAUSE, ROOT } from './helpers/paths.ts';
import { isPauseModeReady, startAsPid1, unshareArgs } from './helpers/pid1.ts';
import { onCleanup, run, start, waitFor } from './helpers/process.ts';
import { missingCommands } from './helpers/requires.ts';

const inputs = mkdtempSync(join(tmpdir(), 'pause-env-in-'));
/** Where the variables that make Node write files point: it must stay empty. */
const outputs = mkdtempSync(join(tmpdir(), 'pause-env-out-'));
afterAll(() => {
  rmSync(inputs, { recursive: true, force: true });
  rmSync(outputs, { recursive: true, force: true });
});
/** A configuration file Node's OpenSSL cannot parse: "OpenSSL configuration error", exit 100, before. */
const BAD_OPENSSL_CONF = join(inputs, 'openssl.cnf');
writeFileSync(BAD_OPENSSL_CONF, '[nodejs_conf\nbroken\n');

/** Descriptor 5 in pause: closed, or open on /dev/null. */
type Fd5 = 'closed' | 'devnull';
interface Variable { readonly name: string; readonly value: string; readonly fd5?: Fd5; readonly before?: string }

/**
 * `before`: what the variable did to pause before the entry stub (landed main,
 * 2026-12-04); none of the others changed what pause did then either, but
 * each was read by Node, its OpenSSL or a library of Node's at start-up.
 */
const VARIABLES: readonly Variable[] = [
  { name: 'OPENSSL_CONF', value: BAD_OPENSSL_CONF, before: 'OpenSSL configuration error, exit 100' },
  { name: 'NODE_CHANNEL_FD', value: 'abc', before: 'stack trace (ERR_INTERNAL_ASSERTION), exit 1' },
  { name: 'NODE_CHANNEL_FD', value: '5', fd5: 'closed', before: 'the command never reaped, pause never exits' },
  { name: 'NODE_CHANNEL_FD', value: '5', fd5: 'devnull', before: 'abort, exit 134' },
  { name: 'NODE_REPL_EXTERNAL_MODULE', value: '/nonexistent.js', before: "can't be used with kDisableNodeOptionsEnv, exit 9" },
  { name: 'NODE_UNIQUE_ID', value: '1', before: 'deleted from the environment the command got' },
  { name: 'NODE_COMPILE_CACHE', value: join(outputs, 'compile-cache'), before: 'a compile cache written at start-up' },
  { name: 'NODE_DEBUG', value: '*', before: "the module loader's lines on stderr" },
  { name: 'NODE_DEBUG_NATIVE', value: 'BOOTSTRAP,CODE_CACHE,DIAGNOSTICS,SEA', before: 'debug lines on stderr' },
  { name: 'SIMDUTF_FORCE_IMPLEMENTATION', value: 'bogus', before: 'Cannot find native builtin, abort, exit 134' },
  { name: 'NODE_V8_COVERAGE', value: join(outputs, 'coverage'), before: 'made absolute in the environment the command got' },
  { name: 'NODE_CHANNEL_SERIALIZATION_MODE', value: 'advanced' },
  { name: 'NODE_CLUSTER_SCHED_POLICY', value: 'rr' },
  { name: 'NODE_OPTIONS', value: '--require /nonexistent.js' },
  { name: 'NODE_COMPILE_CACHE_PORTABLE', value: '1' },
  { name: 'NODE_DISABLE_COMPILE_CACHE', value: '1' },
  { name: 'NODE_REDIRECT_WARNINGS', value: join(outputs, 'warnings') },
  { name: 'NODE_REPL_HISTORY', value: join(outputs, 'repl-history') },
  { name: 'NODE_REPL_HISTORY_SIZE', value: '1' },
  { name: 'NODE_REPL_MODE', value: 'strict' },
  { name: 'NODE_NO_READLINE', value: '1' },
  { name: 'NODE_PENDING_DEPRECATION', value: '1' },
  { name: 'NODE_PRESERVE_SYMLINKS', value: '1' },
  { name: 'NODE_PRESERVE_SYMLINKS_MAIN', value: '1' },
  { name: 'NODE_NO_WARNINGS', value: '0' },
  { name: 'NODE_EXTRA_CA_CERTS', value: '/nonexistent/ca.pem' },
  { name: 'NODE_USE_SYSTEM_CA', value: '1' },
  { name: 'NODE_USE_ENV_PROXY', value: '1' },
  { name: 'NODE_TLS_REJECT_UNAUTHORIZED', value: '0' },
  { name: 'NODE_ICU_DATA', value: '/nonexistent' },
  { name: 'NODE_PATH', value: '/nonexistent' },
  { name: 'NODE_SKIP_PLATFORM_CHECK', value: '1' },
  { name: 'NODE_TEST_CONTEXT', value: 'child-v8' },
  { name: 'NODE_INSPECT_RESUME_ON_START', value: '1' },
  { name: 'NODE_PENDING_PIPE_INSTANCES', value: '1' },
  { name: 'NODE_DISABLE_COLORS', value: '1' },
  { name: 'FORCE_COLOR', value: '3' },
  { name: 'NO_COLOR', value: '1' },
  { name: 'UV_THREADPOOL_SIZE', value: '1024' },
  { name: 'UV_USE_IO_URING', value: '1' },
  { name: 'OPENSSL_CONF_INCLUDE', value: '/nonexistent' },
  { name: 'OPENSSL_MODULES', value: '/nonexistent' },
  { name: 'OPENSSL_ENGINES', value: '/nonexistent' },
  { name: 'OPENSSL_ia32cap', value: '~0x200000200000000' },
  { name: 'OPENSSL_armcap', value: '0' },
  { name: 'OPENSSL_TRACE', value: 'ALL' },
  { name: 'SSL_CERT_FILE', value: '/nonexistent/cert.pem' },
  { name: 'SSL_CERT_DIR', value: '/nonexistent' },
  { name: 'ICU_DATA', value: '/nonexistent' },
  { name: 'ICU_TIMEZONE_FILES_DIR', value: '/nonexistent' },
  { name: 'TZ', value: 'Bogus/Zone' },
  { name: 'LANG', value: 'xx_XX.bogus' },
  { name: 'LC_ALL', value: 'xx_XX.bogus' },
  { name: 'LC_MESSAGES', value: 'xx_XX.bogus' },
  { name: 'HOME', value: '/nonexistent' },
];

function label({ name, value, fd5, before }: Variable): string {
  const shown = value.replace(inputs, 'IN').replace(outputs, 'OUT');
  return `${name}=${shown}${fd5 ? ` (descriptor 5 ${fd5 === 'closed' ? 'closed' : 'open on /dev/null'})` : ''}${before ? ` [before: ${before}]` : ''}`;
}

function environmentWith({ name, value }: Variable): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', [name]: value };
}

/** stdio for pause: descriptor 5 as the variable wants it (closed unless asked for). */
function stdioWith({ fd5 }: Variable): StdioOptions {
  if (fd5 !== 'devnull') return ['ignore', 'pipe', 'pipe'];
  const devNull = openSync('/dev/null', 'r');
  onCleanup(() => closeSync(devNull));
  return ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', devNull];
}

describe('a variable Node or OpenSSL reads at start-up', () => {
  it.each(VARIABLES.map((v) => [label(v), v] as const))('%s: the command sees it unchanged, its status comes out, pause prints nothing', async (_, variable) => {
    const result = await run(PAUSE, ['--', 'sh', '-c', `printf %s "$${variable.name}"; exit 3`], { env: environmentWith(variable), stdio: stdioWith(variable) });
    expect(result).toMatchObject({ code: 3, signal: null, stdout: variable.value, stderr: '' });
  });

  it.each(VARIABLES.map((v) => [label(v), v] as const))('%s: pause mode as PID 1 starts, is silent, exits 0 on SIGTERM', async (_, variable) => {
    const pause = await startAsPid1(PAUSE, [], { env: environmentWith(variable), stdio: stdioWith(variable) });
    await waitFor('pause mode to set up its signals', () => isPauseModeReady(pause.pid));
    expect(pause.stderr()).toBe('');
    process.kill(pause.pid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 0, signal: null });
    expect(pause.stderr()).toBe('Shutting down, got signal: Terminated\n');
    expect(pause.stdout()).toBe('');
  });
});

describe('nothing is written at start-up', () => {
  it('with every file-writing variable pointing into one directory, in both modes, it stays empty', async () => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_COMPILE_CACHE: join(outputs, 'compile-cache'),
      NODE_V8_COVERAGE: join(outputs, 'coverage'),
      NODE_REDIRECT_WARNINGS: join(outputs, 'warnings'),
      NODE_REPL_HISTORY: join(outputs, 'repl-history'),
      NODE_DEBUG: '*',
      NODE_PENDING_DEPRECATION: '1',
    };
    const init = await run(PAUSE, ['--', 'sh', '-c', 'exit 3'], { env });
    expect(init).toMatchObject({ code: 3, stderr: '' });
    const pause = await startAsPid1(PAUSE, [], { env });
    await waitFor('pause mode to set up its signals', () => isPauseModeReady(pause.pid));
    process.kill(pause.pid, 'SIGTERM');
    expect((await pause.exited).code).toBe(0);
    expect(readdirSync(outputs)).toEqual([]);
  });
});

/**
 * The environment a runtime may pass: entries that are not NAME=VALUE (none
 * at all, an empty name, an empty string), a value that is not UTF-8, a name
 * given twice, and the variables Node would have deleted or rewritten.
 */
const RAW_ENVIRONMENT: readonly Buffer[] = [
  Buffer.from('PATH=/usr/bin:/bin'),
  Buffer.from('NOT_NAME_VALUE'),
  Buffer.from([...Buffer.from('LATIN1='), 0xe9, 0xff, 0xfe]),
  Buffer.from('TWICE=1'),
  Buffer.from('TWICE=2'),
  Buffer.from('=no name'),
  Buffer.alloc(0),
  Buffer.from('NODE_UNIQUE_ID=1'),
  Buffer.from('NODE_CHANNEL_FD=abc'),
  Buffer.from('NODE_V8_COVERAGE=relative/dir'),
  Buffer.from(`OPENSSL_CONF=${BAD_OPENSSL_CONF}`),
];
const RAW_BYTES = Buffer.concat(RAW_ENVIRONMENT.flatMap((entry) => [entry, Buffer.alloc(1)]));
const EXEC_RAW = join(ROOT, 'test', 'fixtures', 'exec-with-raw-environment.py');

/** Runs PROGRAM ARGS with exactly RAW_ENVIRONMENT; stdout as bytes. */
async function runWithRawEnvironment(program: string, args: readonly string[]) {
  const hex = RAW_ENVIRONMENT.map((entry) => entry.toString('hex')).join(',');
  const started = start('python3', [EXEC_RAW, hex, program, ...args], { env: { PATH: process.env.PATH } });
  const chunks: Buffer[] = [];
  started.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const { code } = await started.exited;
  return { code, stderr: started.stderr(), stdout: Buffer.concat(chunks) };
}

const skipRaw = missingCommands(['python3', 'unshare']);
const skipChroot = missingCommands(['python3', 'unshare', 'chroot', 'busybox', 'ldd']);

describe.skipIf(skipRaw)('the environment reaches the command byte for byte', () => {
  it("not PID 1: the command's /proc/self/environ is what pause's parent passed", async () => {
    const result = await runWithRawEnvironment(PAUSE, ['--', 'cat', '/proc/self/environ']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.equals(RAW_BYTES), result.stdout.toString('latin1')).toBe(true);
  });

  it("as PID 1: the command's /proc/self/environ is what pause's parent passed", async () => {
    const unshare = (await run('sh', ['-c', 'command -v unshare'])).stdout.trim();
    // unshare passes its environment on as it got it; pause is PID 1 of the new namespace.
    const result = await runWithRawEnvironment(unshare, [...unshareArgs(), PAUSE, '--', 'cat', '/proc/self/environ']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.equals(RAW_BYTES), result.stdout.toString('latin1')).toBe(true);
  });

  // The loader run as a program moves argv on the stack and points AT_EXECFN
  // at the program's name: pause must still find the environment.
  it('started by the dynamic loader run as a program (ld.so PAUSE)', async () => {
    const result = await runWithRawEnvironment(interpreterOf(PAUSE), [PAUSE, '--', 'cat', '/proc/self/environ']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.equals(RAW_BYTES), result.stdout.toString('latin1')).toBe(true);
  });

  it('an empty environment stays empty', async () => {
    const result = await run(PAUSE, ['--', 'cat', '/proc/self/environ'], { env: {} });
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

describe.skipIf(skipChroot)('the environment reaches the command byte for byte without /proc', () => {
  let root = '';
  let remove = (): void => {};
  beforeAll(() => {
    ({ root, remove } = makeRoot(PAUSE, 'pause', ['env']));
  });
  afterAll(() => remove());

  // No /proc: pause reads the environment from the initial stack. busybox env
  // -0 prints the command's environ, which is what it was exec'd with.
  it.each([['not PID 1', false], ['as PID 1', true]] as const)('%s', async (_, pid1) => {
    const command = ['chroot', root, '/pause', '--', '/bin/env', '-0'];
    const unshare = (await run('sh', ['-c', 'command -v unshare'])).stdout.trim();
    const chroot = (await run('sh', ['-c', 'command -v chroot'])).stdout.trim();
    const result = pid1
      ? await runWithRawEnvironment(unshare, ['--pid', '--fork', chroot, ...command.slice(1)])
      : await runWithRawEnvironment(chroot, command.slice(1));
    expect(result).toMatchObject({ code: 0 });
    expect(result.stderr).toMatch(/^(pause: .*\/proc is not mounted: [^\n]*\n)?$/);
    expect(result.stdout.equals(RAW_BYTES), result.stdout.toString('latin1')).toBe(true);
  });
});

describe.skipIf(missingCommands(['chroot', 'busybox', 'ldd']))("the image's own OpenSSL configuration", () => {
  // Node's OpenSSL reads /etc/ssl/openssl.cnf without OPENSSL_CONF; the pinned
  // node in such a root stops with "OpenSSL configuration error", exit 100.
  it('is not read: pause runs in a root whose /etc/ssl/openssl.cnf Node cannot parse', async () => {
    const { root, remove } = makeRoot(PAUSE, 'pause', []);
    onCleanup(remove);
    mkdirSync(join(root, 'etc', 'ssl'), { recursive: true });
    writeFileSync(join(root, 'etc', 'ssl', 'openssl.cnf'), '[nodejs_conf\nbroken\n');
    const result = await run('chroot', [root, '/pause', '--', '/bin/sh', '-c', 'exit 3']);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(/OpenSSL/);
  });
});
