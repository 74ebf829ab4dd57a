// The Node flags the executable runs with, baked into the SEA (`execArgv`).
// Shared by the build and by `npm run dev`, which runs the sources the same way.
export const SEA_EXEC_ARGV: readonly string[] = [
  // Never start the inspector on SIGUSR1 (a plain SEA opens a debugger on
  // 127.0.0.1:9229 when sent SIGUSR1). Leaves SIGUSR1 blocked; init mode
  // unblocks it in the main thread to forward it.
  '--disable-sigusr1',
  // Lets src/internals.ts reach Node's internal bindings: the signal handle
  // (real-time signals) and node:ffi's native half (start-up).
  '--expose-internals',
  // node:ffi and internal modules print warnings; nothing of ours may reach
  // the container's logs uninvited.
  '--no-warnings',
  // One V8 platform worker instead of one per core: each thread takes a PID
  // in the pod's PID namespace, and pause runs no JavaScript worth a second.
  '--v8-pool-size=1',
  // V8 does its compiling and garbage collection on the main thread. In
  // init mode Node's other threads take the queued signals (src/init.ts);
  // under a flood of real-time signals they run nothing but handlers, and a
  // main thread waiting on one of them would stall with the child's exit
  // unseen (measured: 1 in 8 floods before, 0 in 20). Not every wait: the
  // young-generation collector still runs its parallel phase as a job that
  // V8's worker may take while the main thread joins it (docs/design.md,
  // "Signal floods"); --minor-ms below removes that one.
  '--single-threaded',
  // The young generation collected by minor mark-sweep instead of the
  // scavenger. The scavenger posts a job to V8's worker at every collection,
  // even single-threaded, and the main thread joins it: a worker that a flood
  // keeps in signal handlers after it took its share leaves the main thread
  // waiting, the child's exit unseen. Seen with gdb on the pinned Node and
  // these flags: 147 posts to the worker in 1.5 s of allocation with the
  // scavenger, 0 in 3 s (34 collections, 5 of them full) with minor MS.
  '--minor-ms',
  // No JIT: single-threaded V8 would compile hot code on the main thread,
  // in the middle of forwarding a signal. pause runs little JavaScript, and
  // interpreted it forwards with a steady tail (bench/results/tuning.md:
  // p99 80 µs against 415 µs single-threaded with the JIT).
  '--jitless',
  // Compile each function when its script is compiled, not on its first call.
  // Interpreted, start-up is mostly compiling: lazily, a function is parsed
  // once to skip it and again when called, and the code cache that the build
  // makes (with these same flags, scripts/build.ts) then holds only top-level
  // code. Eagerly, the cache holds all of pause: init start-up 1.15× →
  // 1.03-1.11× the floor (which gets the flag too) from round to round;
  // bench/results/tuning.md 41.5 → 37.6 ms. Idle memory +56 kB.
  '--no-lazy',
  // Node's OpenSSL reads a configuration file at start-up, before pause's
  // first line. OPENSSL_CONF never reaches it (the entry stub hides the
  // environment, scripts/entry-stub.ts), but its default does: the image's
  // /etc/ssl/openssl.cnf. One written for the system's OpenSSL (a FIPS
  // provider, an .include Node's OpenSSL cannot follow) stops Node with
  // "OpenSSL configuration error", exit 100. pause does no cryptography: an
  // empty file, or none if /dev/null is missing (a missing file is no error).
  '--openssl-config=/dev/null',
];
