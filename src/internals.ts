// Node's internal bindings: the C++ objects under Node's own JavaScript.
//
// `--expose-internals`, baked into the executable's execArgv, makes the
// module `internal/test/binding` loadable, and its `internalBinding(name)`
// hands out a binding. pause takes two: `signal_wrap` (libuv's signal handle,
// the only way to listen to real-time signals) and `ffi` (node:ffi without
// its JavaScript layer, which cost more start-up than all the rest of pause:
// docs/design.md, "Measured choices"). test/internals.test.ts proves both still work
// on the pinned Node, through the executable.
// Each is checked for the shape pause uses when it is taken: one that is
// missing or changed is not used, the caller falls back to the public API
// (node:ffi, process.on), and the mode says so in one line (fallbackLine).
// Without the flag (a bare `node` running the sources) this returns null and
// the callers fall back without a word about the binding.

type Load = (id: string) => { internalBinding(name: string): unknown };

/** Why a binding was not used: internals not exposed, no such binding, or not in the shape pause knows. */
export type Fallback = 'not exposed' | 'missing' | 'reshaped';
/** Which path each binding took: 'internal', or the reason it fell back. */
const taken = new Map<string, 'internal' | Fallback>();

let loader: Load | null | undefined;

function load(): Load | null {
  if (!process.execArgv.includes('--expose-internals')) return null;
  // The executable's own `require` (a CommonJS bundle) loads it directly;
  // the sources, run as ES modules, need one made for them.
  if (typeof require === 'function') return require as Load;
  const { createRequire } = process.getBuiltinModule('node:module');
  return createRequire(process.execPath) as Load;
}

/**
 * The internal binding `name` when `fits` accepts it (a throw counts as no),
 * or null, the reason kept for bindingPaths.
 */
export function internalBinding<T>(name: string, fits: (binding: T) => boolean): T | null {
  loader ??= load();
  const binding = loader === null ? null : reach<T>(loader, name);
  const path = loader === null ? 'not exposed' : binding === null ? 'missing' : accepts(fits, binding) ? 'internal' : 'reshaped';
  taken.set(name, path);
  return path === 'internal' ? binding : null;
}

function reach<T>(load: Load, name: string): T | null {
  try {
    return (load('internal/test/binding').internalBinding(name) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

function accepts<T>(fits: (binding: T) => boolean, binding: T): boolean {
  try {
    return fits(binding);
  } catch {
    return false;
  }
}

/** Each binding taken so far, and the path it took. */
export function bindingPaths(): ReadonlyMap<string, 'internal' | Fallback> {
  return taken;
}

/**
 * The one line for a binding that the executable should have reached and did
 * not (missing or reshaped: never for a bare `node`), with what it means for
 * the mode; null otherwise.
 */
export function fallbackLine(name: string, consequence: string): string | null {
  const path = taken.get(name);
  if (path !== 'missing' && path !== 'reshaped') return null;
  const what = path === 'missing' ? 'is missing' : 'is not in the shape pause knows';
  return `Node's internal ${name} binding ${what} (Node ${process.version}): ${consequence}`;
}
