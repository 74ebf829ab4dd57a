// What makes two image builds of one commit the same image: every timestamp
// from the commit's time, the commit and the version passed in as build
// arguments (the build context has no .git), and nothing that names the
// building machine or tool.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitTime, gitCommit } from './git-commit.ts';

export interface SourceFacts {
  version: string;
  /** HEAD's short hash, `-dirty` with uncommitted changes; empty outside a git work tree. */
  commit: string;
  /** SOURCE_DATE_EPOCH: as the environment gives it, else the commit's time; 0 (1970) outside a git work tree. */
  epoch: number;
}

/** package.json's version. */
export function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The name `npm run image` tags its image with unless given --tag; an index, its per-architecture images beside it as NAME-ARCH. */
export function defaultImageTag(root: string): string {
  return `localhost/pause.ts:${packageVersion(root)}`;
}

export function sourceFacts(root: string): SourceFacts {
  const version = packageVersion(root);
  const given = process.env['SOURCE_DATE_EPOCH'];
  return { version, commit: gitCommit(root), epoch: given && /^\d+$/.test(given) ? Number(given) : commitTime(root) ?? 0 };
}

/**
 * The engine's build flags for a reproducible image of `root`: the version
 * and commit as build arguments (Dockerfile), SOURCE_DATE_EPOCH for the SBOM,
 * and with podman/buildah --timestamp, which sets the image's `created`, its
 * history's and every layered file's time to the commit's, and no
 * io.buildah.version label (the digest would change with the tool's version).
 */
export function reproducibleBuildArgs(engine: 'podman' | 'docker', root: string): string[] {
  const { version, commit, epoch } = sourceFacts(root);
  const args = ['--build-arg', `PAUSE_VERSION=${version}`, '--build-arg', `PAUSE_COMMIT=${commit}`, '--build-arg', `SOURCE_DATE_EPOCH=${epoch}`];
  return engine === 'podman' ? [...args, '--timestamp', String(epoch), '--identity-label=false'] : args;
}
