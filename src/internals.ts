// Node's internal bindings: the C++ objects under Node's own JavaScript.
//
// `--expose-internals`, baked into the executable's execArgv, makes the
// module `internal/test/binding` loadable, and its `internalBinding(name)`
// hands out a binding. pause takes two: `signal_wrap` (libuv's signal handle,
// the only way to listen to real-time signals) and `ffi` (node:ffi without
// its JavaScript layer, which cost more start-up than all the rest of pause:
// docs/design.md, "Measured choices"). test/internals.test.ts proves both still work
// on the pinned Node.
// Without the flag (a bare `node` running the sources) this returns null and
// the callers fall back to the public API.

type Load = (id: string) => { internalBinding(name: string): unknown };

let loader: Load | null | undefined;

function load(): Load | null {
  if (!process.execArgv.includes('--expose-internals')) return null;
  // The executable's own `require` (a CommonJS bundle) loads it directly;
  // the sources, run as ES modules, need one made for them.
  if (typeof require === 'function') return require as Load;
  const { createRequire } = process.getBuiltinModule('node:module');
  return createRequire(process.execPath) as Load;
}

/** The internal binding `name`, or null when internals cannot be reached. */
export function internalBinding<T>(name: string): T | null {
  loader ??= load();
  if (loader === null) return null;
  try {
    return loader('internal/test/binding').internalBinding(name) as T;
  } catch {
    return null;
  }
}
