// Code the user recently edited or looked at in other files, for the prompt: a bounded ring of
// chunks, most recent first. A chunk much like one already held (the same place, edited again)
// replaces it. Files the privacy patterns exclude (keys, .env, secrets/) never get in. Comment and
// blank lines are dropped: the model's context is small, and code says more per token.

export interface CodeChunk {
  fileName: string;
  /** Whole lines, ending with '\n'. */
  text: string;
}

/** Chunks kept, and the lines around a position that make one (the host cuts them). */
export const DEFAULT_RECENT_CHUNKS = 16;
export const CHUNK_LINES = 16;
/** Chunks with fewer lines of code say too little. */
const MIN_CODE_LINES = 3;
/** Share of lines two chunks have in common above which the newer replaces the older. */
const NEAR_DUPLICATE = 0.5;
/** Comment lines (`//`, `#`, and a block comment's lines starting with a slash-star or a star); C's
 *  `#include` and the like are code. */
const COMMENT_LINE = /^\s*(\/\/|\/\*|\*|#(?!\s*(include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|import)\b|!))/;

export class RecentChunks {
  /** Least recent first. */
  private chunks: CodeChunk[] = [];

  /** `excluded` names the files that must never be kept (the privacy patterns). */
  constructor(private readonly excluded: (fileName: string) => boolean, private readonly capacity = DEFAULT_RECENT_CHUNKS) {}

  get size(): number {
    return this.chunks.length;
  }

  /** Keeps `text` (lines of `fileName`) as the most recent chunk, unless the file is excluded or the
   *  text holds too little code. */
  add(fileName: string, text: string): void {
    if (this.excluded(fileName)) return;
    const code = codeLines(text);
    if (code.length < MIN_CODE_LINES) return;
    const chunk = { fileName, text: code.map((line) => `${line}\n`).join('') };
    this.chunks = this.chunks.filter((old) => similarity(old.text, chunk.text) < NEAR_DUPLICATE);
    this.chunks.push(chunk);
    if (this.chunks.length > this.capacity) this.chunks.splice(0, this.chunks.length - this.capacity);
  }

  /** Drops what is held of `fileName` (closed or deleted). */
  forget(fileName: string): void {
    this.chunks = this.chunks.filter((chunk) => chunk.fileName !== fileName);
  }

  /** Drops the chunks of files excluded now (after the patterns changed). */
  prune(): void {
    this.chunks = this.chunks.filter((chunk) => !this.excluded(chunk.fileName));
  }

  /** The chunks of files other than `fileName`, most recent first. */
  from(excludingFile: string): CodeChunk[] {
    return this.chunks.filter((chunk) => chunk.fileName !== excludingFile).reverse();
  }
}

function codeLines(text: string): string[] {
  return text.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== '' && !COMMENT_LINE.test(line));
}

/** Lines in common (trimmed, as a set) over the lines of the shorter chunk. */
export function similarity(a: string, b: string): number {
  const linesA = new Set(a.split('\n').map((line) => line.trim()).filter(Boolean));
  const linesB = new Set(b.split('\n').map((line) => line.trim()).filter(Boolean));
  if (linesA.size === 0 || linesB.size === 0) return 0;
  let common = 0;
  for (const line of linesA) if (linesB.has(line)) common++;
  return common / Math.min(linesA.size, linesB.size);
}
