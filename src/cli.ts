// Command line and environment → a typed configuration. Pure: no I/O.
//
// `pause [OPTIONS] [--] COMMAND [ARG...]`: options end at `--` or at the first
// argument that is not an option (as getopt with a leading '+'), so that
// everything after belongs to COMMAND. No COMMAND: the pause mode.
import type { LogFormat } from './log.ts';
import { initDisposition, parseSignal, signalName, type Parsed } from './signals.ts';

export interface InitOptions {
  readonly command: readonly string[];
  readonly processGroup: boolean;
  readonly subreaper: boolean;
  readonly parentDeathSignal: number | null;
  readonly remapExit: ReadonlySet<number>;
  /** FROM → TO; TO 0 drops the signal. */
  readonly rewrite: ReadonlyMap<number, number>;
  readonly gracePeriodMs: number;
  readonly warnOnReap: boolean;
  readonly logFormat: LogFormat;
  readonly verbose: boolean;
}

export type Config =
  | { readonly mode: 'pause' }
  /** -v is pause.c's flag; --version adds the commit, for Docker's init probe. */
  | { readonly mode: 'version'; readonly withCommit: boolean }
  | { readonly mode: 'help' }
  | { readonly mode: 'init'; readonly options: InitOptions };

/**
 * Half of `docker stop`'s and `podman stop`'s 10 s: counted from pause's own
 * SIGTERM when an engine stops it (src/init-phases.ts graceLeft), pause is done
 * before the engine's SIGKILL would take the command's status with it.
 */
const DEFAULT_GRACE_SECONDS = 5;
/** setTimeout's limit (2^31 - 1 ms), in whole seconds. */
const MAX_GRACE_SECONDS = 2_147_483;

export const USAGE = `Usage: pause [OPTIONS] [--] COMMAND [ARG...]
       pause            (no COMMAND: hold the pod's namespaces and reap orphans)

Options (each also read from the environment variable shown; the command line wins;
tini's TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP and TINI_VERBOSITY are read when the
PAUSE_ one is not set):
  -g, --process-group           forward signals to the child's process group   PAUSE_PROCESS_GROUP=1
  -s, --subreaper               register as child subreaper; failing is fatal   PAUSE_SUBREAPER=1
  -p, --parent-death-signal SIG signal pause gets when its parent dies          PAUSE_PARENT_DEATH_SIGNAL=SIG
  -e, --remap-exit CODE         treat child exit CODE as 0 (repeatable)         PAUSE_REMAP_EXIT=CODE,CODE
  -r, --rewrite FROM:TO         deliver TO instead of FROM; TO 0 drops it       PAUSE_REWRITE=FROM:TO,FROM:TO
  -t, --grace-period SECONDS    after the child exits, wait this long for the   PAUSE_GRACE_PERIOD=SECONDS
                                rest before SIGKILL (default ${DEFAULT_GRACE_SECONDS}; 0: no wait)
  -w, --warn-on-reap            log each reaped process that was not the child  PAUSE_WARN_ON_REAP=1
      --log-format text|json    format of pause's own log lines on stderr      PAUSE_LOG_FORMAT=json
      --verbose                 log spawn, each forwarded signal and the exit   PAUSE_VERBOSE=1
  -v, -vv, -vvv                 with COMMAND: tini's verbosity; -v and up turn on --verbose
  -v                            without COMMAND: print the version and exit (pause.c's flag)
  -V                            the same, COMMAND or not (pause.c takes -v in any case)
      --version                 the same, and the git commit it was built from
                                (" - git.COMMIT", which Docker's init probe reads)
  -h, --help                    print this help and exit
`;

interface Draft {
  processGroup: boolean;
  subreaper: boolean;
  parentDeathSignal: number | null;
  remapExit: Set<number> | null;
  rewrite: Map<number, number> | null;
  gracePeriodMs: number | null;
  warnOnReap: boolean;
  logFormat: LogFormat | null;
  verbose: boolean;
  /** How many times -v was given (tini's verbosity: each one raises it a level); null: never. */
  verbosity: number | null;
}

type Flag = 'processGroup' | 'subreaper' | 'warnOnReap' | 'verbose';
type Valued = 'parentDeathSignal' | 'remapExit' | 'rewrite' | 'gracePeriod' | 'logFormat';

const SHORT_FLAGS: Readonly<Record<string, Flag>> = { g: 'processGroup', s: 'subreaper', w: 'warnOnReap' };
const SHORT_VALUED: Readonly<Record<string, Valued>> = { p: 'parentDeathSignal', e: 'remapExit', r: 'rewrite', t: 'gracePeriod' };
const LONG_FLAGS: Readonly<Record<string, Flag>> = {
  'process-group': 'processGroup', subreaper: 'subreaper', 'warn-on-reap': 'warnOnReap', verbose: 'verbose',
};
const LONG_VALUED: Readonly<Record<string, Valued>> = {
  'parent-death-signal': 'parentDeathSignal', 'remap-exit': 'remapExit', rewrite: 'rewrite',
  'grace-period': 'gracePeriod', 'log-format': 'logFormat',
};

/** table[key] when the table itself has it: `--constructor` or `--toString` must not find Object's own. */
function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const ENVIRONMENT = {
  processGroup: 'PAUSE_PROCESS_GROUP',
  subreaper: 'PAUSE_SUBREAPER',
  parentDeathSignal: 'PAUSE_PARENT_DEATH_SIGNAL',
  remapExit: 'PAUSE_REMAP_EXIT',
  rewrite: 'PAUSE_REWRITE',
  gracePeriod: 'PAUSE_GRACE_PERIOD',
  warnOnReap: 'PAUSE_WARN_ON_REAP',
  logFormat: 'PAUSE_LOG_FORMAT',
  verbose: 'PAUSE_VERBOSE',
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The environment's entries (NAME=VALUE as bytes) as getenv(3) reads them:
 * the first entry of a name wins, entries without `=` name nothing, and
 * values are decoded as UTF-8 as Node decodes process.env.
 */
export function environmentOf(entries: readonly Uint8Array[]): Environment {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const entry of entries) {
    const text = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('utf8');
    const equals = text.indexOf('=');
    if (equals <= 0) continue;
    const name = text.slice(0, equals);
    if (!Object.hasOwn(env, name)) env[name] = text.slice(equals + 1);
  }
  return env;
}

function parseExitCode(text: string): Parsed<number> {
  if (/^\d{1,3}$/.test(text.trim()) && Number(text) <= 255) return { ok: true, value: Number(text) };
  return { ok: false, error: `'${text}' is not an exit code: use a whole number from 0 to 255` };
}

function parseGracePeriod(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed) && Number(trimmed) <= MAX_GRACE_SECONDS) {
    return { ok: true, value: Math.round(Number(trimmed) * 1000) };
  }
  return { ok: false, error: `'${text}' is not a grace period: use seconds from 0 to ${MAX_GRACE_SECONDS}, e.g. 10 or 0.5` };
}

function parseRewrite(text: string): Parsed<[number, number]> {
  const parts = text.split(':');
  if (parts.length !== 2) return { ok: false, error: `'${text}' is not a rewrite: use FROM:TO, e.g. TERM:INT or 15:0` };
  const from = parseSignal(parts[0] ?? '');
  if (!from.ok) return from;
  if (initDisposition(from.value) !== 'forward') {
    return { ok: false, error: `'${text}': ${signalName(from.value)} is never forwarded, so it cannot be rewritten` };
  }
  const to = parseSignal(parts[1] ?? '', true);
  if (!to.ok) return to;
  return { ok: true, value: [from.value, to.value] };
}

function parseLogFormat(text: string): Parsed<LogFormat> {
  return text === 'text' || text === 'json'
    ? { ok: true, value: text }
    : { ok: false, error: `'${text}' is not a log format: use text or json` };
}

function parseBoolean(text: string): Parsed<boolean> {
  const lower = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return { ok: true, value: true };
  if (['', '0', 'false', 'no', 'off'].includes(lower)) return { ok: true, value: false };
  return { ok: false, error: `'${text}' is not a boolean: use 1 or 0` };
}

/** Stores a parsed value; returns the parse error or null. */
function store<T>(parsed: Parsed<T>, keep: (value: T) => void): string | null {
  if (!parsed.ok) return parsed.error;
  keep(parsed.value);
  return null;
}

/** How each valued option is read into the draft; each returns an error message or null. */
const APPLY: Readonly<Record<Valued, (draft: Draft, value: string) => string | null>> = {
  parentDeathSignal: (draft, value) => store(parseSignal(value), (signo) => { draft.parentDeathSignal = signo; }),
  remapExit: (draft, value) => store(parseExitCode(value), (code) => { (draft.remapExit ??= new Set()).add(code); }),
  rewrite: (draft, value) => store(parseRewrite(value), (pair) => { (draft.rewrite ??= new Map()).set(...pair); }),
  gracePeriod: (draft, value) => store(parseGracePeriod(value), (ms) => { draft.gracePeriodMs = ms; }),
  logFormat: (draft, value) => store(parseLogFormat(value), (format) => { draft.logFormat = format; }),
};

/**
 * tini's variables (tini's README; src/tini.c reads them with getenv), each
 * read when the PAUSE_ one is not set. tini turns the first two on when they
 * are set at all, whatever their value (its README: `export TINI_SUBREAPER=`).
 */
const TINI_FLAGS: Readonly<Partial<Record<Flag, string>>> = {
  subreaper: 'TINI_SUBREAPER', processGroup: 'TINI_KILL_PROCESS_GROUP',
};
const TINI_VERBOSITY = 'TINI_VERBOSITY';
/** src/tini.c: DEFAULT_VERBOSITY is 1, and each -v raises the level by one. */
const TINI_DEFAULT_VERBOSITY = 1;
/** src/tini.c prints INFO lines (the child's spawn) above level 1: what --verbose starts at. */
const TINI_INFO_LEVEL = 2;

/** Whether tini's verbosity `level` turns on pause's --verbose. */
function verboseAt(level: number): boolean {
  return level >= TINI_INFO_LEVEL;
}

/** A boolean option from PAUSE_*, or else from its tini alias; an error message or null. */
function environmentFlag(draft: Draft, flag: Flag, env: Environment): string | null {
  const text = env[ENVIRONMENT[flag]];
  const alias = TINI_FLAGS[flag];
  if (text === undefined) {
    if (alias !== undefined && env[alias] !== undefined) draft[flag] = true;
    return null;
  }
  const parsed = parseBoolean(text);
  if (!parsed.ok) return `${ENVIRONMENT[flag]}: ${parsed.error}`;
  draft[flag] = parsed.value;
  return null;
}

/** --verbose from -v on the command line, PAUSE_VERBOSE, or TINI_VERBOSITY, in that order. */
function environmentVerbosity(draft: Draft, env: Environment): string | null {
  if (draft.verbose) return null;
  if (draft.verbosity !== null) {
    draft.verbose = verboseAt(TINI_DEFAULT_VERBOSITY + draft.verbosity);
    return null;
  }
  if (env[ENVIRONMENT.verbose] !== undefined) return environmentFlag(draft, 'verbose', env);
  const level = env[TINI_VERBOSITY];
  if (level === undefined) return null;
  if (!/^\s*-?\d+\s*$/.test(level)) return `${TINI_VERBOSITY}: '${level}' is not a verbosity level: use a whole number, e.g. 1 (tini's default) or 3`;
  draft.verbose = verboseAt(Number(level));
  return null;
}

/** Fills in from the environment whatever the command line left unset. */
function applyEnvironment(draft: Draft, env: Environment): string | null {
  for (const flag of ['processGroup', 'subreaper', 'warnOnReap'] as const) {
    const error = draft[flag] ? null : environmentFlag(draft, flag, env);
    if (error) return error;
  }
  const verbosityError = environmentVerbosity(draft, env);
  if (verbosityError) return verbosityError;
  const lists = { remapExit: draft.remapExit === null, rewrite: draft.rewrite === null } as const;
  const singles = {
    parentDeathSignal: draft.parentDeathSignal === null,
    gracePeriod: draft.gracePeriodMs === null,
    logFormat: draft.logFormat === null,
  } as const;
  for (const [option, unset] of Object.entries({ ...lists, ...singles }) as [Valued, boolean][]) {
    const text = env[ENVIRONMENT[option]];
    if (!unset || text === undefined || text.trim() === '') continue;
    const values = option in lists ? text.split(/[\s,]+/).filter(Boolean) : [text];
    for (const value of values) {
      const error = APPLY[option](draft, value);
      if (error) return `${ENVIRONMENT[option]}: ${error}`;
    }
  }
  return null;
}

/**
 * Parses `argv` (without the executable) and the environment.
 * Errors are one line that says what is wrong and how to put it right.
 */
export function parseArgs(argv: readonly string[], env: Environment): Parsed<Config> {
  const draft: Draft = {
    processGroup: false, subreaper: false, parentDeathSignal: null, remapExit: null, rewrite: null,
    gracePeriodMs: null, warnOnReap: false, logFormat: null, verbose: false, verbosity: null,
  };
  const scanned = readOptions(argv, draft);
  if ('result' in scanned) return scanned.result;
  const command = argv.slice(scanned.commandAt);
  if (command.length === 0) {
    if (argv.length === 0) return { ok: true, value: { mode: 'pause' } };
    // pause.c's -v: with no COMMAND, -v (however many) prints the version.
    if (draft.verbosity !== null) return { ok: true, value: { mode: 'version', withCommit: false } };
    return failure(`no COMMAND given: options only apply when running a command (pause [OPTIONS] -- COMMAND), and pause mode takes no options`);
  }
  const envError = applyEnvironment(draft, env);
  if (envError) return failure(envError);
  return { ok: true, value: { mode: 'init', options: initOptions(draft, command) } };
}

/** Where the options ended and COMMAND begins, or a result of their own (help, version, an error). */
type Scan = { readonly commandAt: number } | { readonly result: Parsed<Config> };
/** The index of the last argument an option took, or a result of its own. */
type Read = { readonly last: number } | { readonly result: Parsed<Config> };

function failure(message: string): Parsed<Config> {
  return { ok: false, error: message };
}

function stop(message: string): Read {
  return { result: failure(message) };
}

/** Reads the options into `draft`; they end at `--` or at the first argument that is not one. */
function readOptions(argv: readonly string[], draft: Draft): Scan {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return { commandAt: i + 1 };
    if (!arg.startsWith('-') || arg === '-') break;
    const read = arg.startsWith('--') ? readLong(argv, i, draft) : readShortCluster(argv, i, draft);
    if ('result' in read) return read;
    i = read.last;
  }
  return { commandAt: i };
}

/** `--name`, `--name=value` or `--name value`, at argv[at]. */
function readLong(argv: readonly string[], at: number, draft: Draft): Read {
  const [name = '', inline] = splitOnce((argv[at] ?? '').slice(2), '=');
  const flag = lookup(LONG_FLAGS, name);
  const valued = lookup(LONG_VALUED, name);
  if (name === 'version' || name === 'help') {
    if (inline !== undefined) return stop(`option --${name} takes no value`);
    return { result: { ok: true, value: name === 'version' ? { mode: name, withCommit: true } : { mode: name } } };
  }
  if (flag) {
    if (inline !== undefined) return stop(`option --${name} takes no value`);
    draft[flag] = true;
    return { last: at };
  }
  if (!valued) return stop(`unknown option '--${name}'`);
  return readValue(valued, `--${name}`, inline, argv, at, draft);
}

/**
 * A cluster of short options at argv[at], getopt style: -gw, -t5, -t 5. -h
 * and -V end it. Each -v raises tini's verbosity level; parseArgs makes them
 * pause.c's version flag when no COMMAND follows.
 */
function readShortCluster(argv: readonly string[], at: number, draft: Draft): Read {
  const arg = argv[at] ?? '';
  for (let j = 1; j < arg.length; j++) {
    const letter = arg[j] ?? '';
    if (letter === 'h') return { result: { ok: true, value: { mode: 'help' } } };
    if (letter === 'V') return { result: { ok: true, value: { mode: 'version', withCommit: false } } };
    if (letter === 'v') { draft.verbosity = (draft.verbosity ?? 0) + 1; continue; }
    const flag = lookup(SHORT_FLAGS, letter);
    const valued = lookup(SHORT_VALUED, letter);
    if (flag) { draft[flag] = true; continue; }
    if (!valued) return stop(`unknown option '-${letter}'`);
    return readValue(valued, `-${letter}`, j + 1 < arg.length ? arg.slice(j + 1) : undefined, argv, at, draft);
  }
  return { last: at };
}

/** The value of option `name` (as written: `--rewrite`, `-r`): `inline`, or else the next argument. */
function readValue(option: Valued, name: string, inline: string | undefined, argv: readonly string[], at: number, draft: Draft): Read {
  const last = inline === undefined ? at + 1 : at;
  const value = inline ?? argv[last];
  if (value === undefined) return stop(`option ${name} needs a value`);
  const problem = APPLY[option](draft, value);
  if (problem) return stop(`${name}: ${problem}`);
  return { last };
}

function initOptions(draft: Draft, command: readonly string[]): InitOptions {
  return {
    command,
    processGroup: draft.processGroup,
    subreaper: draft.subreaper,
    parentDeathSignal: draft.parentDeathSignal,
    remapExit: draft.remapExit ?? new Set(),
    rewrite: draft.rewrite ?? new Map(),
    gracePeriodMs: draft.gracePeriodMs ?? DEFAULT_GRACE_SECONDS * 1000,
    warnOnReap: draft.warnOnReap,
    logFormat: draft.logFormat ?? 'text',
    verbose: draft.verbose,
  };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
