// The README's "Any image" recipes, shared by the podman and Docker tests:
// a build context holding busybox-static beside a Dockerfile, and the
// COPY --from recipe written out for a given pause image.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fresh directory under `parent` holding /bin/busybox (static) as `busybox` and `lines` as its Dockerfile. */
export function recipeContext(parent: string, lines: readonly string[]): string {
  const context = mkdtempSync(join(parent, 'context-'));
  copyFileSync('/bin/busybox', join(context, 'busybox'));
  writeFileSync(join(context, 'Dockerfile'), `${lines.join('\n')}\n`);
  return context;
}

/** The README's recipe, word for word but for the image names: the bundle and a static busybox in FROM scratch. */
export function scratchRecipe(pauseImage: string): string[] {
  return [
    `FROM ${pauseImage} AS pause`,
    'FROM scratch',
    'COPY --from=pause /pause.ts /pause.ts',
    'COPY busybox /bin/busybox',
    'ENTRYPOINT ["/pause.ts/pause", "--"]',
    'CMD ["/bin/busybox", "sh", "-c", "echo hello from scratch; exit 3"]',
  ];
}
