// parseArgs: argv + environment → configuration. Pure, so tested directly.
import { describe, expect, it } from 'vitest';
import { environmentOf, parseArgs, USAGE, type Config, type Environment, type InitOptions } from '../src/cli.ts';
import { SIGHUP, SIGINT, SIGTERM, SIGUSR1 } from '../src/signals.ts';

/** The init options for argv, failing the test if the parse is not an init config. */
function init(argv: readonly string[], env: Environment = {}): InitOptions {
  const parsed = parseArgs(argv, env);
  if (!parsed.ok) throw new Error(`expected a valid parse, got: ${parsed.error}`);
  if (parsed.value.mode !== 'init') throw new Error(`expected init mode, got ${parsed.value.mode}`);
  return parsed.value.options;
}

/** The error message for argv, failing the test if it parsed. */
function failure(argv: readonly string[], env: Environment = {}): string {
  const parsed = parseArgs(argv, env);
  if (parsed.ok) throw new Error(`expected an error, got ${JSON.stringify(parsed.value, (_, v: unknown) => (v instanceof Set || v instanceof Map ? [...v] : v))}`);
  return parsed.error;
}

function mode(argv: readonly string[]): Config['mode'] {
  const parsed = parseArgs(argv, {});
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value.mode;
}

describe('the usage text', () => {
  // Every short option the parser takes, found by trying each letter, with a value where one is wanted.
  const accepted = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((letter) => {
    const parsed = parseArgs([`-${letter}`, '1', '--', 'true'], {});
    return parsed.ok || !parsed.error.startsWith(`unknown option '-${letter}'`);
  });
  it('names every short option the parser takes', () => {
    expect(accepted.length).toBeGreaterThan(8);
    expect(accepted.filter((letter) => !new RegExp(`^\\s+(?:-\\w, )?-${letter}\\b`, 'm').test(USAGE))).toEqual([]);
  });
});

describe('modes', () => {
  it('no arguments is pause mode', () => expect(mode([])).toBe('pause'));
  it.each([['-v'], ['-V'], ['--version']])('%s prints the version', (arg) => expect(mode([arg])).toBe('version'));
  it.each([['-h'], ['--help']])('%s prints the help', (arg) => expect(mode([arg])).toBe('help'));
  // getopt reads a cluster letter by letter: -gh is -g -h.
  it.each([['-gh', 'x'], ['-hg']])('%s in a cluster prints the help', (...argv) => expect(mode(argv)).toBe('help'));
  it.each([['-Vw'], ['-gv'], ['-vv'], ['-v', '-g']])('%j without COMMAND prints the version', (...argv) => expect(mode(argv)).toBe('version'));
  it.each([[['-v'], false], [['-V'], false], [['-gv'], false], [['--version'], true]] as const)(
    '%j adds the commit: %s (only --version, which Docker runs; -v is pause.c\'s)', (argv, withCommit) => {
      expect(parseArgs(argv, {})).toEqual({ ok: true, value: { mode: 'version', withCommit } });
    });
  it.each([['--version=1'], ['--help=yes']])('%s: the option is known but takes no value', (arg) => {
    expect(failure([arg, 'x'])).toMatch(new RegExp(`option ${arg.split('=')[0]} takes no value`));
  });
  it('a command is init mode with defaults', () => {
    expect(init(['sleep', '1'])).toEqual({
      command: ['sleep', '1'], processGroup: false, subreaper: false, parentDeathSignal: null,
      remapExit: new Set(), rewrite: new Map(), gracePeriodMs: 5_000, // the documented default: 5 s
      warnOnReap: false, logFormat: 'text', verbose: false,
    });
  });
});

describe('where options end', () => {
  it('`--` ends the options', () => expect(init(['--', 'ls', '-v']).command).toEqual(['ls', '-v']));
  it('the first non-option ends the options: `ls -v` passes -v to ls', () => {
    expect(init(['ls', '-v']).command).toEqual(['ls', '-v']);
  });
  it('options after the command belong to the command', () => {
    const options = init(['-g', 'sh', '-g', '--verbose']);
    expect(options.command).toEqual(['sh', '-g', '--verbose']);
    expect(options.verbose).toBe(false);
  });
  it('only the first `--` is consumed', () => expect(init(['--', '--', 'x']).command).toEqual(['--', 'x']));
  it('a lone `-` is a command, not an option', () => expect(init(['-', 'a']).command).toEqual(['-', 'a']));
  it('-h after `--` is the command\'s', () => expect(init(['--', 'cmd', '-h']).command).toEqual(['cmd', '-h']));
});

describe('flags', () => {
  it.each([
    ['-g', 'processGroup'], ['--process-group', 'processGroup'],
    ['-s', 'subreaper'], ['--subreaper', 'subreaper'],
    ['-w', 'warnOnReap'], ['--warn-on-reap', 'warnOnReap'],
    ['--verbose', 'verbose'],
  ] as const)('%s sets %s', (arg, key) => expect(init([arg, '--', 'x'])[key]).toBe(true));
  it('short flags cluster: -gsw', () => {
    const options = init(['-gsw', 'x']);
    expect([options.processGroup, options.subreaper, options.warnOnReap]).toEqual([true, true, true]);
  });
  it('a long flag refuses a value', () => expect(failure(['--verbose=1', 'x'])).toMatch(/--verbose takes no value/));
});

describe('valued options in every form', () => {
  it.each([
    [['-t', '3']], [['-t3']], [['--grace-period', '3']], [['--grace-period=3']], [['-gt3']], [['-gt', '3']],
  ])('%j sets the grace period', (args) => expect(init([...args, '--', 'x']).gracePeriodMs).toBe(3000));
  it('fractional grace period in ms', () => expect(init(['-t', '0.25', 'x']).gracePeriodMs).toBe(250));
  it('grace period 0', () => expect(init(['-t0', 'x']).gracePeriodMs).toBe(0));
  it.each([
    [['-p', 'HUP']], [['-pSIGHUP']], [['--parent-death-signal', '1']], [['--parent-death-signal=sighup']],
  ])('%j sets the parent death signal', (args) => expect(init([...args, 'x']).parentDeathSignal).toBe(SIGHUP));
  it('-e repeats and accumulates', () => {
    expect(init(['-e', '3', '-e4', '--remap-exit', '5', '--remap-exit=143', 'x']).remapExit).toEqual(new Set([3, 4, 5, 143]));
  });
  it('-r repeats and accumulates, TO 0 drops', () => {
    expect(init(['-r', 'TERM:INT', '--rewrite=USR1:0', '-rHUP:15', 'x']).rewrite).toEqual(
      new Map([[SIGTERM, SIGINT], [SIGUSR1, 0], [SIGHUP, SIGTERM]]),
    );
  });
  it.each([['text'], ['json']] as const)('--log-format %s', (format) => {
    expect(init(['--log-format', format, 'x']).logFormat).toBe(format);
    expect(init([`--log-format=${format}`, 'x']).logFormat).toBe(format);
  });
  it('a value may look like an option: -t then -- is the value slot', () => {
    // getopt takes the next argument as the value whatever it looks like.
    expect(failure(['-t', '--', 'x'])).toMatch(/'--' is not a grace period/);
  });
});

describe('bad command lines name the problem', () => {
  it.each([
    [['-x', 'cmd'], /unknown option '-x'/],
    [['-gx', 'cmd'], /unknown option '-x'/],
    [['--nope', 'cmd'], /unknown option '--nope'/],
    [['--nope=1', 'cmd'], /unknown option '--nope'/],
    // Names an object has by inheritance are not options.
    [['--constructor', 'cmd'], /unknown option '--constructor'/],
    [['--__proto__', 'cmd'], /unknown option '--__proto__'/],
    [['--toString=1', 'cmd'], /unknown option '--toString'/],
    [['--hasOwnProperty', 'cmd'], /unknown option '--hasOwnProperty'/],
    [['-t'], /option -t needs a value/],
    [['--grace-period'], /option --grace-period needs a value/],
    [['-p'], /option -p needs a value/],
    [['-p', 'BOGUS', 'x'], /-p: 'BOGUS' is not a signal/],
    [['--parent-death-signal=65', 'x'], /'65' is not a signal/],
    [['-p', '0', 'x'], /'0' is not a signal/],
    [['-e', '256', 'x'], /-e: '256' is not an exit code.*0 to 255/],
    [['-e', '-1', 'x'], /'-1' is not an exit code/],
    [['-e', 'abc', 'x'], /'abc' is not an exit code/],
    [['--grace-period', '-1', 'x'], /--grace-period: '-1' is not a grace period/],
    [['-t', '1e3', 'x'], /'1e3' is not a grace period/],
    [['-t', '9999999999', 'x'], /is not a grace period/],
    [['-r', 'TERM', 'x'], /'TERM' is not a rewrite: use FROM:TO/],
    [['-r', 'TERM:INT:HUP', 'x'], /is not a rewrite/],
    [['-r', 'NOPE:INT', 'x'], /'NOPE' is not a signal/],
    [['-r', 'TERM:NOPE', 'x'], /'NOPE' is not a signal/],
    [['-r', 'KILL:TERM', 'x'], /SIGKILL is never forwarded/],
    [['-r', 'STOP:TERM', 'x'], /SIGSTOP is never forwarded/],
    [['-r', 'CHLD:TERM', 'x'], /SIGCHLD is never forwarded/],
    [['-r', 'TTOU:TERM', 'x'], /SIGTTOU is never forwarded/],
    [['-r', 'SEGV:TERM', 'x'], /SIGSEGV is never forwarded/],
    [['-r', '0:TERM', 'x'], /'0' is not a signal/],
    [['--log-format', 'xml', 'x'], /'xml' is not a log format/],
  ] as const)('%j → %s', (argv, message) => expect(failure(argv)).toMatch(message));

  it.each([[['-g']], [['--verbose']], [['-t', '5']], [['-g', '--']], [['--']]])('options without COMMAND: %j', (argv) => {
    expect(failure(argv)).toMatch(/no COMMAND given/);
  });
});

describe('environment', () => {
  it.each([
    ['PAUSE_PROCESS_GROUP', 'processGroup'], ['PAUSE_SUBREAPER', 'subreaper'],
    ['PAUSE_WARN_ON_REAP', 'warnOnReap'], ['PAUSE_VERBOSE', 'verbose'],
  ] as const)('%s=1 sets %s', (name, key) => {
    expect(init(['x'], { [name]: '1' })[key]).toBe(true);
    expect(init(['x'], { [name]: 'true' })[key]).toBe(true);
    expect(init(['x'], { [name]: '0' })[key]).toBe(false);
    expect(init(['x'], { [name]: '' })[key]).toBe(false);
  });
  it('PAUSE_PARENT_DEATH_SIGNAL', () => expect(init(['x'], { PAUSE_PARENT_DEATH_SIGNAL: 'TERM' }).parentDeathSignal).toBe(SIGTERM));
  it('PAUSE_REMAP_EXIT takes a list', () => expect(init(['x'], { PAUSE_REMAP_EXIT: '3, 4 5' }).remapExit).toEqual(new Set([3, 4, 5])));
  it('PAUSE_REWRITE takes a list', () => {
    expect(init(['x'], { PAUSE_REWRITE: 'TERM:INT,USR1:0' }).rewrite).toEqual(new Map([[SIGTERM, SIGINT], [SIGUSR1, 0]]));
  });
  it('PAUSE_GRACE_PERIOD', () => expect(init(['x'], { PAUSE_GRACE_PERIOD: '2.5' }).gracePeriodMs).toBe(2500));
  it('PAUSE_LOG_FORMAT', () => expect(init(['x'], { PAUSE_LOG_FORMAT: 'json' }).logFormat).toBe('json'));
  it('unrelated variables are ignored', () => expect(init(['x'], { PAUSE: 'x', PAUSE_OTHER: 'y' }).verbose).toBe(false));

  describe('the command line wins', () => {
    it('grace period', () => expect(init(['-t', '3', 'x'], { PAUSE_GRACE_PERIOD: '7' }).gracePeriodMs).toBe(3000));
    it('parent death signal', () => expect(init(['-p', 'HUP', 'x'], { PAUSE_PARENT_DEATH_SIGNAL: 'TERM' }).parentDeathSignal).toBe(SIGHUP));
    it('log format', () => expect(init(['--log-format=text', 'x'], { PAUSE_LOG_FORMAT: 'json' }).logFormat).toBe('text'));
    it('remap list is replaced, not merged', () => expect(init(['-e', '3', 'x'], { PAUSE_REMAP_EXIT: '4' }).remapExit).toEqual(new Set([3])));
    it('rewrite list is replaced, not merged', () => {
      expect(init(['-r', 'HUP:TERM', 'x'], { PAUSE_REWRITE: 'TERM:INT' }).rewrite).toEqual(new Map([[SIGHUP, SIGTERM]]));
    });
    it('a bad variable is not read when the option is given', () => {
      expect(init(['-t', '1', 'x'], { PAUSE_GRACE_PERIOD: 'bogus' }).gracePeriodMs).toBe(1000);
      expect(init(['-g', 'x'], { PAUSE_PROCESS_GROUP: 'bogus' }).processGroup).toBe(true);
    });
  });

  it.each([
    ['PAUSE_PROCESS_GROUP', 'maybe', /not a boolean/],
    ['PAUSE_SUBREAPER', '2', /not a boolean/],
    ['PAUSE_WARN_ON_REAP', 'yess', /not a boolean/],
    ['PAUSE_VERBOSE', 'x', /not a boolean/],
    ['PAUSE_PARENT_DEATH_SIGNAL', 'NOPE', /not a signal/],
    ['PAUSE_REMAP_EXIT', '3,300', /'300' is not an exit code/],
    ['PAUSE_REWRITE', 'TERM:INT,KILL:INT', /SIGKILL is never forwarded/],
    ['PAUSE_GRACE_PERIOD', '-1', /not a grace period/],
    ['PAUSE_LOG_FORMAT', 'yaml', /not a log format/],
  ])('bad %s=%s names the variable', (name, value, message) => {
    const error = failure(['x'], { [name]: value });
    expect(error.startsWith(`${name}: `)).toBe(true);
    expect(error).toMatch(message);
  });

  it('the environment never turns -v without COMMAND into anything but the version', () => {
    expect(parseArgs(['-v'], { TINI_VERBOSITY: '3', PAUSE_VERBOSE: '0' })).toEqual({ ok: true, value: { mode: 'version', withCommit: false } });
  });
  it('the environment alone never selects init mode', () => expect(parseArgs([], { PAUSE_VERBOSE: '1' })).toEqual({ ok: true, value: { mode: 'pause' } }));
});

// tini's command line and variables (tini's README and src/tini.c).
describe('tini compatibility', () => {
  it.each([['-v'], ['-vv'], ['-vvv'], ['-v', '-v']])('%j before a command is tini\'s verbosity: --verbose', (...flags) => {
    expect(init([...flags, '--', 'x']).verbose).toBe(true);
  });
  it('-vvv -p SIGUSR1 -- cmd, as in tini\'s README, runs cmd', () => {
    const options = init(['-vvv', '-p', 'SIGUSR1', '--', 'cmd']);
    expect(options).toMatchObject({ command: ['cmd'], verbose: true, parentDeathSignal: SIGUSR1 });
  });
  it('-v in a cluster counts too', () => expect(init(['-gv', 'x'])).toMatchObject({ processGroup: true, verbose: true, command: ['x'] }));
  it('-v after the command is the command\'s', () => expect(init(['x', '-v'])).toMatchObject({ command: ['x', '-v'], verbose: false }));

  it.each([
    ['TINI_SUBREAPER', 'subreaper'], ['TINI_KILL_PROCESS_GROUP', 'processGroup'],
  ] as const)('%s set to anything, even empty or 0, sets %s (tini only asks whether it is set)', (name, key) => {
    for (const value of ['', '0', '1', 'x']) expect(init(['x'], { [name]: value })[key]).toBe(true);
    expect(init(['x'], {})[key]).toBe(false);
  });
  it.each([
    ['TINI_SUBREAPER', 'PAUSE_SUBREAPER', 'subreaper'], ['TINI_KILL_PROCESS_GROUP', 'PAUSE_PROCESS_GROUP', 'processGroup'],
  ] as const)('%s: the PAUSE_ variable wins when both are set', (alias, name, key) => {
    expect(init(['x'], { [alias]: '1', [name]: '0' })[key]).toBe(false);
    expect(failure(['x'], { [alias]: '1', [name]: 'bogus' })).toMatch(new RegExp(`^${name}: `));
  });
  it.each([['0', false], ['1', false], ['2', true], ['3', true], [' 4 ', true], ['-1', false]] as const)(
    'TINI_VERBOSITY=%s: --verbose is %s (tini logs the spawn from level 2)', (level, verbose) => {
      expect(init(['x'], { TINI_VERBOSITY: level }).verbose).toBe(verbose);
    });
  it('TINI_VERBOSITY that is not a number names the variable', () => {
    expect(failure(['x'], { TINI_VERBOSITY: 'loud' })).toMatch(/^TINI_VERBOSITY: 'loud' is not a verbosity level/);
  });
  it('PAUSE_VERBOSE wins over TINI_VERBOSITY', () => {
    expect(init(['x'], { TINI_VERBOSITY: '3', PAUSE_VERBOSE: '0' }).verbose).toBe(false);
    expect(init(['x'], { TINI_VERBOSITY: '0', PAUSE_VERBOSE: '1' }).verbose).toBe(true);
  });
  it('the command line wins over both', () => {
    expect(init(['-v', 'x'], { PAUSE_VERBOSE: '0', TINI_VERBOSITY: '0' }).verbose).toBe(true);
    expect(init(['--verbose', 'x'], { PAUSE_VERBOSE: '0' }).verbose).toBe(true);
  });
});

describe('environmentOf: the kernel\'s entries as getenv reads them', () => {
  const entries = (...texts: (string | Buffer)[]) => texts.map((t) => (typeof t === 'string' ? Buffer.from(t) : t));

  it('takes NAME=VALUE, splitting at the first =', () => {
    expect(environmentOf(entries('PAUSE_REWRITE=15:2', 'A=b=c'))).toEqual({ PAUSE_REWRITE: '15:2', A: 'b=c' });
  });

  it('keeps the first of a name given twice, as getenv(3) does', () => {
    expect(environmentOf(entries('PAUSE_VERBOSE=1', 'PAUSE_VERBOSE=0')).PAUSE_VERBOSE).toBe('1');
  });

  it('skips entries that name nothing: no =, an empty name, an empty string', () => {
    expect(Object.keys(environmentOf(entries('PAUSE_VERBOSE', '=1', '')))).toEqual([]);
  });

  it('decodes values as UTF-8, as Node decodes process.env, and takes __proto__ as a name like any other', () => {
    const env = environmentOf(entries(Buffer.from([0x58, 0x3d, 0xff]), '__proto__=x', 'TZ=Europe/Zürich'));
    expect(env).toMatchObject({ X: '\ufffd', TZ: 'Europe/Zürich' });
    expect(env.__proto__).toBe('x');
  });
});
