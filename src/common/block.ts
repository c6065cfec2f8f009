// A block of code as a parser sees it: src/context/syntax.ts finds them, and post-processing
// (src/postprocess/syntaxBlock.ts) cuts a suggestion where the cursor's block ends. Here, below both,
// so that neither stage imports the other.

/** A block in UTF-16 offsets of the parsed text: brackets with their contents, a body that ends at
 *  `end`, or an indented body (Python's `block`, which ends with its last statement). */
export interface Block {
  start: number;
  end: number;
  /** Where the first syntax error or missing token inside the block is; absent when it has none. */
  firstErrorAt?: number;
}
