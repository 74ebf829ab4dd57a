import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The executable under test, as `npm run build` makes it. */
export const PAUSE = resolve(ROOT, 'dist', 'pause');
