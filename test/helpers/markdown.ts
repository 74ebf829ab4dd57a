// Markdown as GitHub renders it, as far as links are concerned: which relative
// links a file holds, which anchors its headings make, and whether each link
// lands. Pure except for `repositoryFiles` and `markdownFilesIn`, which read the
// file system (and run no process).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface Link {
  readonly text: string;
  /** The destination as written: `path`, `path#anchor`, `#anchor`, or a URL. */
  readonly target: string;
  /** 1-based line of the link's opening bracket. */
  readonly line: number;
}

/**
 * GitHub's anchor for a heading's rendered text, before duplicates are
 * numbered: lower-case, every character that is not a letter, a mark, a
 * decimal or letter number, a connector (`_`), `-` or a space removed, and
 * each space made a `-` (so `a -- b` gives `a----b`).
 */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Code spans of a block of inline text: [start, end) of each, backticks included. */
function codeSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  const runs = [...text.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    // A run of N backticks opens a span that the next run of exactly N closes;
    // with no such run it is literal text.
    const close = runs.slice(i + 1).findIndex((run) => run[0].length === open[0].length);
    if (close === -1) continue;
    const closing = runs[i + 1 + close]!;
    spans.push([open.index, closing.index + closing[0].length]);
    i += 1 + close;
  }
  return spans;
}

/** `text` with each code span and backslash escape blanked out, same length, line breaks kept. */
function maskCode(text: string): string {
  let masked = text.replace(/\\[\\`[\]()!*_]/g, '  ');
  for (const [start, end] of codeSpans(masked)) {
    masked = masked.slice(0, start) + masked.slice(start, end).replace(/[^\n]/g, ' ') + masked.slice(end);
  }
  return masked;
}

interface Fence { readonly char: string; readonly length: number }

/** The fence a line opens a fenced code block with (in a list item it may be indented). */
function openingFence(line: string): Fence | null {
  const match = /^[ \t]*(`{3,}|~{3,})/.exec(line);
  return match?.[1] ? { char: match[1][0]!, length: match[1].length } : null;
}

/** Whether a line closes the block `fence` opened: the same character, as many or more, nothing after. */
function closes(line: string, fence: Fence): boolean {
  const match = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(line);
  return match?.[1] !== undefined && match[1][0] === fence.char && match[1].length >= fence.length;
}

/**
 * The document with fenced code blocks blanked out (same lines, emptied), and
 * inline code spans and escapes blanked in each paragraph: what is left is
 * where links and headings can be. Indented code blocks are not recognised.
 */
function prose(markdown: string): string[] {
  // Code spans do not cross a blank line: mask paragraph by paragraph.
  return paragraphs(markdown).map(maskCode).join('').split('\n');
}

/** The document with fenced code blocks emptied, cut at blank lines (the separators kept, so joining restores it). */
function paragraphs(markdown: string): string[] {
  let fence: Fence | null = null;
  const outside = markdown.split('\n').map((line) => {
    if (fence) {
      if (closes(line, fence)) fence = null;
      return '';
    }
    fence = openingFence(line);
    return fence ? '' : line;
  });
  return outside.join('\n').split(/(\n[ \t]*\n)/);
}

export interface CodePath {
  /** The path as written in the code span, without a `:LINE` suffix. */
  readonly path: string;
  /** 1-based line of the code span. */
  readonly line: number;
}

/** Where the repository's own files live: a code span starting with one of these names a path in it. */
const REPOSITORY_PATH = /^(?:(?:\.ci|bench|docs|scripts|src|test|tools)\/[\w.@/-]+|Dockerfile|LICENSE|package(?:-lock)?\.json|tsconfig\.json|vitest\.config\.ts)$/;

/**
 * Every code span outside fenced blocks that names a file or directory of the
 * repository (`src/init.ts`, `test/image/`, `Dockerfile`, `src/x.ts:12`):
 * what a reader would look for in the tree.
 */
export function codePathsOf(markdown: string): CodePath[] {
  const found: CodePath[] = [];
  let line = 1;
  for (const paragraph of paragraphs(markdown)) {
    const text = paragraph.replace(/\\[\\`]/g, '  ');
    for (const [start, end] of codeSpans(text)) {
      const ticks = /^`+/.exec(text.slice(start))![0].length;
      const path = text.slice(start + ticks, end - ticks).trim().replace(/:\d+(?:-\d+)?$/, '');
      if (REPOSITORY_PATH.test(path)) found.push({ path, line: line + (text.slice(0, start).match(/\n/g)?.length ?? 0) });
    }
    line += paragraph.match(/\n/g)?.length ?? 0;
  }
  return found;
}

const INLINE_LINK = /(!?)\[((?:[^[\]]|\[[^[\]]*\])*)\]\(\s*(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const DEFINITION = /^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)/;

/**
 * Every inline link and image (`[text](dest)`, `![alt](dest)`) and every
 * reference definition (`[ref]: dest`) outside code, in document order.
 */
export function linksOf(markdown: string): Link[] {
  const original = markdown.split('\n');
  const masked = prose(markdown);
  const links: Link[] = [];
  const scan = (text: string, shown: string, line: number): void => {
    for (const match of text.matchAll(INLINE_LINK)) {
      const textStart = match.index + match[1]!.length + 1;
      const inner = match[2]!;
      const destination = match[3]!.replace(/^<(.*)>$/, '$1');
      links.push({ text: shown.slice(textStart, textStart + inner.length), target: destination, line });
      // An image inside a link's text is a link of its own.
      scan(inner, shown.slice(textStart, textStart + inner.length), line);
    }
  };
  masked.forEach((text, i) => {
    const definition = DEFINITION.exec(text);
    if (definition) {
      links.push({ text: definition[1]!, target: definition[2]!.replace(/^<(.*)>$/, '$1'), line: i + 1 });
      return;
    }
    scan(text, original[i] ?? '', i + 1);
  });
  return links;
}

/** A heading's Markdown reduced to the text GitHub renders from it. */
export function headingText(markdown: string): string {
  let text = '';
  let last = 0;
  const plain = (part: string): string => part
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '') // an image renders no text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link renders its text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/(^|[^\p{L}\p{N}_])_{1,2}([^_]+?)_{1,2}(?=$|[^\p{L}\p{N}_])/gu, '$1$2') // _emphasis_
    .replace(/\\(.)/g, '$1');
  for (const [start, end] of codeSpans(markdown)) {
    text += plain(markdown.slice(last, start)) + markdown.slice(start, end).replace(/^`+ ?| ?`+$/g, '');
    last = end;
  }
  return (text + plain(markdown.slice(last))).trim();
}

/** The anchors of every heading (ATX `# …` and setext), numbered as GitHub numbers repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const lines = prose(markdown);
  const anchors = new Set<string>();
  const add = (raw: string): void => {
    const base = slug(headingText(raw));
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  };
  // Headings are read from the original text: masking blanked their code spans.
  const original = markdown.split('\n');
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+|$)/.exec(line);
    if (atx) {
      add((original[i] ?? '').slice(atx[0].length).replace(/(?:^|[ \t]+)#+[ \t]*$/, ''));
      return;
    }
    const previous = lines[i - 1] ?? '';
    const isUnderline = /^ {0,3}(=+|-+)[ \t]*$/.test(line);
    const previousIsText = previous.trim() !== '' && !/^ {0,3}(#|[-*+] |\d+[.)] |>|\|)/.test(previous) && !/^ {0,3}(=+|-+)[ \t]*$/.test(previous);
    if (isUnderline && previousIsText) add(original[i - 1] ?? '');
  });
  return anchors;
}

/** What a link checker needs to know of the repository. */
export interface Files {
  kind(path: string): 'file' | 'directory' | 'missing';
  read(path: string): string;
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;
const MARKDOWN = /\.(?:md|markdown)$/i;

/**
 * What is wrong with the relative links of `file` (a path from the
 * repository's root, `/`-separated): one line per link whose file is missing,
 * that leaves the repository, or whose anchor is not a heading of its target.
 * External links are not followed; anchors into files other than Markdown are
 * not checked.
 */
export function problemsOf(file: string, files: Files): string[] {
  const problems: string[] = [];
  for (const link of linksOf(files.read(file))) {
    if (EXTERNAL.test(link.target)) continue;
    const hash = link.target.indexOf('#');
    const pathPart = hash === -1 ? link.target : link.target.slice(0, hash);
    const anchor = hash === -1 ? null : decodeURIComponent(link.target.slice(hash + 1));
    const where = `${file}:${link.line}: [${link.text}](${link.target})`;
    let target = file;
    if (pathPart !== '') {
      const decoded = decodeURIComponent(pathPart);
      target = posix.normalize(decoded.startsWith('/') ? decoded.slice(1) : posix.join(posix.dirname(file), decoded)).replace(/\/$/, '');
      if (target === '..' || target.startsWith('../')) { problems.push(`${where}: leaves the repository`); continue; }
      if (files.kind(target === '' ? '.' : target) === 'missing') { problems.push(`${where}: ${target} does not exist`); continue; }
    }
    if (anchor === null || !MARKDOWN.test(target) || files.kind(target) !== 'file') continue;
    if (!anchorsOf(files.read(target)).has(anchor)) problems.push(`${where}: ${target} has no heading with the anchor #${anchor}`);
  }
  return problems;
}

/** One line for each repository path named in a code span of `file` that does not exist (from the root, or from `file`'s folder). */
export function missingCodePathsOf(file: string, files: Files): string[] {
  return codePathsOf(files.read(file))
    .filter(({ path }) => [path, posix.join(posix.dirname(file), path)].every((candidate) => files.kind(posix.normalize(candidate).replace(/\/$/, '')) === 'missing'))
    .map(({ path, line }) => `${file}:${line}: \`${path}\` does not exist`);
}

/** The repository's files as they are on disk below `root`. */
export function repositoryFiles(root: string): Files {
  return {
    kind(path) {
      try {
        return statSync(join(root, path)).isDirectory() ? 'directory' : 'file';
      } catch {
        return 'missing';
      }
    },
    read: (path) => readFileSync(join(root, path), 'utf8'),
  };
}

/**
 * Every Markdown file below `root`, as `/`-separated paths from it, sorted:
 * all of the repository's but `.git` and the directories `.gitignore` names
 * (node_modules/, dist/, …), which hold no Markdown of ours.
 */
export function markdownFilesIn(root: string): string[] {
  const ignored = new Set(['.git']);
  for (const line of readFileSync(join(root, '.gitignore'), 'utf8').split('\n')) {
    const directory = /^\/?([^/*?\s]+)\/$/.exec(line.trim());
    if (directory?.[1]) ignored.add(directory[1]);
  }
  const found: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(join(root, directory), { withFileTypes: true })) {
      const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isDirectory() && !ignored.has(entry.name)) walk(path);
      else if (entry.isFile() && MARKDOWN.test(entry.name)) found.push(path);
    }
  };
  walk('');
  return found.sort();
}
