// The test's own OCI index archive: scripts/image-index.ts run on the test's
// amd64 and arm64 pause images, as `npm run image` runs it on its builds.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeIndexArchive, type IndexArchive } from '../../../scripts/image-index.ts';
import { sourceFacts } from '../../../scripts/image-inputs.ts';
import { normalizeArchive } from '../../../scripts/oci-layout.ts';
import { ROOT } from '../../helpers/paths.ts';
import { uniqueName } from './containers.ts';
import { ensureImages, PAUSE_IMAGE, PAUSE_IMAGE_ARM64 } from './images.ts';

/** The name the archive gives the index; `ctr images import --base-name` takes its repository part. */
export const INDEX_REFERENCE = 'localhost/pause.ts:index-test';
export const INDEX_REPOSITORY = 'localhost/pause.ts';

export interface TestIndex extends IndexArchive {
  archive: string;
  /** Removes the archive and its directory. */
  remove(): void;
}

/** Builds the images if need be (minutes, the first time) and writes the archive. */
export function writeTestIndex(): TestIndex {
  ensureImages('arm64');
  const dir = mkdtempSync(join(ROOT, '.tmp', 'index-'));
  const archive = join(dir, 'pause.ts.oci.tar');
  try {
    const index = writeIndexArchive({ amd64: PAUSE_IMAGE, arm64: PAUSE_IMAGE_ARM64 }, archive, INDEX_REFERENCE, `localhost/${uniqueName('index')}:list`);
    // As `npm run image` leaves it: members sorted and dated (what ctr import and skopeo then read).
    normalizeArchive(archive, sourceFacts(ROOT).epoch);
    return { ...index, archive, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
