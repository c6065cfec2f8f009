// The Explain answer rendered as it streams, without re-rendering what is already shown: the text
// is cut at block boundaries (a non-indented line after a blank line, outside a code fence); the
// blocks before the last boundary are rendered once and appended, and only the open tail after it
// is rendered again on each update. Work per update is O(new text + tail), not O(answer).
// Pure (markdown-it only).

import MarkdownIt from 'markdown-it';

export const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

/** Up to this size the finished answer is rendered once more as a whole (a list or reference link
 *  split across blocks then reads exactly right); ~60 ms on this machine at the limit. */
export const FULL_RENDER_MAX_CHARS = 256 * 1024;

/** What the page applies: clear its rendered blocks if `reset`, append `append`, replace the tail. */
export interface AnswerPatch {
  reset: boolean;
  append: string;
  tail: string;
}

export class MarkdownStream {
  private source = ''; //       text of the committed blocks
  private pieces: string[] = []; // their HTML, in order
  private scanned = 0; //       lines before this offset of the text have been classified
  private inFence: string | undefined; // the open fence's marker (``` or ~~~ run) at `scanned`
  private afterBlank = false; // the line before `scanned` was blank (outside a fence)
  private boundary = 0; //      the last block boundary found

  /** The patch that brings the page from the previous update to `text`. */
  update(text: string, final = false): AnswerPatch {
    let reset = false;
    if (!text.startsWith(this.source)) {
      this.clear();
      reset = true;
    }
    if (final && text.length <= FULL_RENDER_MAX_CHARS) {
      this.clear();
      this.source = text;
      this.pieces = [markdown.render(text)];
      return { reset: true, append: this.pieces[0], tail: '' };
    }
    this.scan(text);
    const end = final ? text.length : this.boundary;
    let append = '';
    if (end > this.source.length) {
      append = markdown.render(text.slice(this.source.length, end));
      this.pieces.push(append);
      this.source = text.slice(0, end);
    }
    return { reset, append, tail: end < text.length ? markdown.render(text.slice(end)) : '' };
  }

  /** Everything rendered so far, for a page that (re)loads. */
  snapshot(text: string, final = false): AnswerPatch {
    const patch = this.update(text, final);
    return { reset: true, append: this.pieces.join(''), tail: patch.tail };
  }

  private clear(): void {
    this.source = '';
    this.pieces = [];
    this.scanned = 0;
    this.inFence = undefined;
    this.afterBlank = false;
    this.boundary = 0;
  }

  /** Classifies the complete lines not yet seen; a line that may still grow is left for later. */
  private scan(text: string): void {
    for (let end = text.indexOf('\n', this.scanned); end >= 0; end = text.indexOf('\n', this.scanned)) {
      const start = this.scanned;
      const line = text.slice(start, end);
      this.scanned = end + 1;
      const fence = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (this.inFence !== undefined) {
        if (fence && fence[0] === this.inFence[0] && fence.length >= this.inFence.length && line.trim() === fence) this.inFence = undefined;
        continue;
      }
      const blank = line.trim() === '';
      if (this.afterBlank && !blank && !/^[ \t]/.test(line)) this.boundary = start;
      this.afterBlank = blank;
      if (fence) this.inFence = fence;
    }
  }
}
