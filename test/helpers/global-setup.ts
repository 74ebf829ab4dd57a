// The tests run the built executable: say how to make it when it is missing.
import { existsSync } from 'node:fs';
import { PAUSE } from './paths.ts';

export default function setup(): void {
  if (!existsSync(PAUSE)) throw new Error(`${PAUSE} is missing: run \`npm run build\` first`);
}
