// tsx scripts/rootfs.ts EXECUTABLE DIR
//
// Lays out DIR as the root of the `FROM scratch` pause image: the relocatable
// bundle at /pause.ts (scripts/bundle.ts: the executable, its loader and
// libraries, pointing at each other), and /pause, a symbolic link to
// /pause.ts/pause, for the pause container that runtimes start as `/pause`.
// The image holds nothing else: no /lib, no /lib64.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_PATH, makeBundle } from './bundle.ts';

const [executable, rootfs] = process.argv.slice(2);
if (!executable || !rootfs) {
  process.stderr.write('usage: rootfs.ts EXECUTABLE DIR\n');
  process.exit(2);
}
// What goes wrong here (no readelf or patchelf, a library not installed) is
// told in one line of the image build's log, not as a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(`rootfs: ${error.message.split('\n')[0]}\n`);
  process.exit(1);
});

for (const file of makeBundle(executable, join(rootfs, BUNDLE_PATH))) process.stdout.write(`rootfs: ${BUNDLE_PATH}/${file}\n`);
// Relative, so that it resolves the same inside the image and in DIR.
symlinkSync(`${BUNDLE_PATH.slice(1)}/pause`, join(rootfs, 'pause'));
process.stdout.write(`rootfs: /pause -> ${BUNDLE_PATH}/pause\n`);
