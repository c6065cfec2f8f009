// Multi-line suggestions stop where the block the cursor is in ends: by syntax where a grammar
// parses the code around the cursor, else by indentation. Single lines are left whole.

import { inferIndentation } from './indentation';
import { indentationBlockEnd } from './indentBlock';
import { lastLine } from './lines';
import { syntaxBlockEnd } from './syntaxBlock';
import type { PostProcessor } from './types';

export const truncateToBlock: PostProcessor = (suggestion, context) => {
  if (!suggestion.includes('\n')) return suggestion;
  const end = syntaxBlockEnd(suggestion, context)
    ?? indentationBlockEnd(suggestion, lastLine(context.prefix), inferIndentation(context.prefix + context.suffix).unit);
  return suggestion.slice(0, end).trimEnd();
};
