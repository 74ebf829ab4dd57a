// The programs compared, and how each is asked to do the same thing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type ProgramId = 'pause' | 'floor' | 'tini' | 'dumb-init' | 'catatonit' | 'c-pause';
/** C programs pause.ts is compared with; c-pause is the bench's own (bench/c-pause.c), in the start-up window only. */
export const PEERS: readonly ProgramId[] = ['tini', 'dumb-init', 'catatonit', 'c-pause'];

export interface Program {
  id: ProgramId;
  path: string;
  /** Prints its version and exits. */
  version: string[];
  /** Runs `command` as its child (init mode); null: it has no such mode. */
  init: ((command: string[]) => string[]) | null;
  /** Holds on without a child, as Kubernetes' pause; null: no such mode. */
  pause: string[] | null;
}

function which(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

/** Builds dist/floor with the same build (same stripped Node, same execArgv) unless it is newer than dist/pause. */
export function ensureFloor(root: string, pause: string): string {
  const floor = join(root, 'dist', 'floor');
  if (!existsSync(floor) || statSync(floor).mtimeMs < statSync(pause).mtimeMs) {
    execFileSync('npm', ['run', '--silent', 'build', '--', '--entry', 'bench/floor.ts', '--out', floor], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return floor;
}

/** Every program found on this machine, pause and the floor first. */
export function findPrograms(pause: string, floor: string): Program[] {
  const programs: Program[] = [
    { id: 'pause', path: pause, version: ['-v'], init: (command) => ['--', ...command], pause: [] },
    // The floor runs no child: for "init mode to exit" it exits at once, the least any Node init can cost.
    { id: 'floor', path: floor, version: ['-v'], init: null, pause: [] },
  ];
  const tini = which('tini');
  // -s: a subreaper when not PID 1, as the others are on their own.
  if (tini) programs.push({ id: 'tini', path: tini, version: ['--version'], init: (command) => ['-s', '--', ...command], pause: null });
  const dumbInit = which('dumb-init');
  if (dumbInit) programs.push({ id: 'dumb-init', path: dumbInit, version: ['--version'], init: (command) => [...command], pause: null });
  const catatonit = which('catatonit');
  if (catatonit) programs.push({ id: 'catatonit', path: catatonit, version: ['--version'], init: (command) => ['--', ...command], pause: ['-P'] });
  return programs;
}

/** One way of running a program in a figure. */
export interface Subject {
  program: Program;
  label: string;
  argv: string[];
  /** Runs a child (init mode). */
  hasChild: boolean;
}

/** Each program that has a pause mode (no child). */
export function pauseSubjects(programs: readonly Program[]): Subject[] {
  return programs.flatMap((program) => program.pause
    ? [{ program, label: [program.id, ...program.pause, ...(program.id === 'pause' ? ['(pause mode)'] : [])].join(' '), argv: program.pause, hasChild: false }]
    : []);
}

/** Each program that has an init mode, running `command`. */
export function initSubjects(programs: readonly Program[], command: string[]): Subject[] {
  return programs.flatMap((program) => program.init
    ? [{ program, label: `${program.id} ${program.init(command).join(' ')}`, argv: program.init(command), hasChild: true }]
    : []);
}
