// Every relative link in the project's Markdown lands: its file exists, and
// its anchor is a heading of the target as GitHub numbers them. Pure: reads
// files, runs nothing, needs no build.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf, codePathsOf, headingText, linksOf, markdownFilesIn, missingCodePathsOf, problemsOf, repositoryFiles, slug, type Files,
} from './helpers/markdown.ts';
import { ROOT } from './helpers/paths.ts';

describe('slug', () => {
  it.each([
    ['Exit codes', 'exit-codes'],
    ['containerd 1.x (/etc/containerd/config.toml, config version 2)', 'containerd-1x-etccontainerdconfigtoml-config-version-2'],
    ['As podman\'s or Docker\'s --init', 'as-podmans-or-dockers---init'],
    ['Benchmarks: beside tini, dumb-init and the Node floor', 'benchmarks-beside-tini-dumb-init-and-the-node-floor'],
    ['snake_case stays', 'snake_case-stays'],
    ['2³¹ × 1.5 — µs, Größe', '2--15--µs-größe'],
  ])('%s → %s', (text, anchor) => expect(slug(text)).toBe(anchor));
});

describe('headingText', () => {
  it.each([
    ['`--init` and `SEA_EXEC_ARGV`', '--init and SEA_EXEC_ARGV'],
    ['[docs](docs/x.md) and ![logo](logo.svg) here', 'docs and  here'],
    ['_emphasis_, __strong__ and **bold**, but snake_case', 'emphasis, strong and **bold**, but snake_case'],
    ['a <br> b \\# c', 'a  b # c'],
  ])('%s → %s', (markdown, text) => expect(headingText(markdown)).toBe(text));
});

describe('anchorsOf', () => {
  it('numbers repeated headings -1, -2 in document order', () => {
    expect([...anchorsOf('# Size\n## Size\ntext\n### Size\n')]).toEqual(['size', 'size-1', 'size-2']);
  });
  it('reads closing hashes, code spans and setext headings', () => {
    expect([...anchorsOf('## The `--init` path ##\n\nTitle\n=====\n\nSub title\n---\n')]).toEqual(['the---init-path', 'title', 'sub-title']);
  });
  it('ignores headings inside fenced code', () => {
    expect([...anchorsOf('```sh\n# a comment\n```\n~~~\n## not either\n~~~\n# Real\n')]).toEqual(['real']);
  });
  it('takes no table or list line over a dashed line for a heading', () => {
    expect([...anchorsOf('| a | b |\n|---|---|\n\n- item\n---\n')]).toEqual([]);
  });
});

describe('linksOf', () => {
  it('finds inline links, images, anchors and reference definitions, with their lines', () => {
    const markdown = 'See [the docs](docs/a.md#part) and ![chart](c.svg "title").\n\n[ref]: <docs/b.md>\nAnd [here](#local).';
    expect(linksOf(markdown)).toEqual([
      { text: 'the docs', target: 'docs/a.md#part', line: 1 },
      { text: 'chart', target: 'c.svg', line: 1 },
      { text: 'ref', target: 'docs/b.md', line: 3 },
      { text: 'here', target: '#local', line: 4 },
    ]);
  });
  it('keeps code inside a link\'s text, and finds an image inside a link', () => {
    expect(linksOf('[`latest.md`](bench/latest.md) [![badge](b.svg)](https://x.example)').map((link) => link.target))
      .toEqual(['bench/latest.md', 'https://x.example', 'b.svg']);
    expect(linksOf('[`latest.md`](bench/latest.md)')[0]?.text).toBe('`latest.md`');
  });
  it('ignores links in fenced code blocks', () => {
    expect(linksOf('```md\n[a](missing.md)\n```\n~~~~\n[b](missing.md)\n~~~~\n  ```\n  [c](x.md)\n  ```\n')).toEqual([]);
  });
  it('ignores links in code spans, single or double backticks, across a line break', () => {
    expect(linksOf('`[a](x.md)` and ``[b](`y`.md)`` and `one\n[c](z.md)` line')).toEqual([]);
  });
  it('takes an unmatched backtick as text, and a paragraph break ends a code span', () => {
    expect(linksOf('a ` tick [a](x.md)\n\n` [b](y.md)').map((link) => link.target)).toEqual(['x.md', 'y.md']);
  });
  it('ignores escaped brackets', () => {
    expect(linksOf('\\[not](a link)')).toEqual([]);
  });
});

/** An in-memory repository: a directory is any prefix of a file's path. */
function filesOf(contents: Readonly<Record<string, string>>): Files {
  return {
    kind(path) {
      if (path in contents) return 'file';
      return Object.keys(contents).some((file) => file.startsWith(`${path}/`)) ? 'directory' : 'missing';
    },
    read: (path) => contents[path] ?? '',
  };
}

describe('problemsOf', () => {
  const files = filesOf({
    'README.md': '# Top\n## Exit codes\n',
    'docs/a.md': [
      '[ok](../README.md#exit-codes) [dir](../src) [code](../src/x.ts#L3) [self](#a) [web](https://example.com/x.md#nope) [mail](mailto:x@y)',
      '# A',
      '[gone](b.md) [bad anchor](../README.md#exit-code) [out](../../etc/passwd) [no self](#b)',
    ].join('\n'),
    'src/x.ts': '',
  });
  it('reports a missing file, a missing anchor (here and elsewhere) and a link out of the repository, and nothing else', () => {
    expect(problemsOf('docs/a.md', files)).toEqual([
      'docs/a.md:3: [gone](b.md): docs/b.md does not exist',
      'docs/a.md:3: [bad anchor](../README.md#exit-code): README.md has no heading with the anchor #exit-code',
      'docs/a.md:3: [out](../../etc/passwd): leaves the repository',
      'docs/a.md:3: [no self](#b): docs/a.md has no heading with the anchor #b',
    ]);
  });
});

describe('codePathsOf', () => {
  it('takes code spans that name the repository\'s paths, with their lines, and nothing in fenced code', () => {
    const markdown = 'Read `src/init.ts` and `src/libc.ts:42`, `Dockerfile`,\n`npm test`, `/etc/x.conf`, `dist/pause`.\n\n```\n`src/fenced.ts`\n```\nand ``test/a b.ts`` `test/image/`';
    expect(codePathsOf(markdown)).toEqual([
      { path: 'src/init.ts', line: 1 }, { path: 'src/libc.ts', line: 1 }, { path: 'Dockerfile', line: 1 },
      { path: 'test/image/', line: 7 },
    ]);
  });
  it('reports a path that exists neither from the root nor beside the file', () => {
    const files = filesOf({ 'docs/a.md': '`src/x.ts` `src/gone.ts` `docs/a.md` `scripts/`\n`test/old.test.ts`', 'src/x.ts': '', 'scripts/b.ts': '' });
    expect(missingCodePathsOf('docs/a.md', files)).toEqual([
      'docs/a.md:1: `src/gone.ts` does not exist',
      'docs/a.md:2: `test/old.test.ts` does not exist',
    ]);
  });
});

describe('the repository\'s Markdown', () => {
  const markdown = markdownFilesIn(ROOT);
  it('includes the README, the docs and the bench results, and nothing from node_modules', () => {
    expect(markdown).toEqual(expect.arrayContaining(['README.md', 'bench/results/latest.md', 'docs/design.md']));
    expect(markdown.filter((path) => path.includes('node_modules'))).toEqual([]);
  });
  it.each(markdown)('%s: every relative link resolves', (file) => {
    expect(problemsOf(file, repositoryFiles(ROOT))).toEqual([]);
  });
  it.each(markdown.filter((file) => file === 'README.md' || file.startsWith('docs/')))('%s: every file named in a code span exists', (file) => {
    expect(missingCodePathsOf(file, repositoryFiles(ROOT))).toEqual([]);
  });
});

describe('docs/design.md, "Layout"', () => {
  it('names every module of src/', () => {
    const design = readFileSync(join(ROOT, 'docs/design.md'), 'utf8');
    const layout = design.slice(design.indexOf('\n## Layout'), design.indexOf('\n## ', design.indexOf('\n## Layout') + 1));
    const modules = readdirSync(join(ROOT, 'src')).filter((file) => file.endsWith('.ts')).map((file) => `src/${file}`);
    expect(modules.length).toBeGreaterThan(10);
    expect(modules.filter((module) => !layout.includes(`\`${module}\``))).toEqual([]);
  });
});

describe('README.md', () => {
  // The front door: one paragraph and a link per topic; depth lives in docs/.
  it('stays within 250 lines', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(250);
  });
});
