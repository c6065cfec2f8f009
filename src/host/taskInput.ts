// Turns the active editor into a task: the target (selection, else the enclosing function or class
// via tree-sitter, else a small file whole) and context chunks (the rest of the file, other visible
// editors). Files matching flashcode.cloud.exclude never become context at all.

import * as vscode from 'vscode';
import type { CodeTarget, ContextChunk } from '../commands/types';
import type { SyntaxService } from '../context/syntax';
import { pickTarget } from '../context/target';
import { isExcluded } from '../privacy/exclude';

/** Context taken from around the code and from each other visible editor, at most. */
const CONTEXT_CHARS = 20_000;

export interface EditorTask {
  target: CodeTarget;
  context: ContextChunk[];
  /** Where the target came from, for titles: "selection", "function_declaration", "file". */
  source: string;
}

export async function taskFromEditor(
  editor: vscode.TextEditor,
  syntax: SyntaxService | undefined,
  exclude: readonly string[],
): Promise<EditorTask | { message: string }> {
  const doc = editor.document;
  const text = doc.getText();
  const selectionStart = doc.offsetAt(editor.selection.start);
  const selectionEnd = doc.offsetAt(editor.selection.end);
  const scope = selectionStart === selectionEnd
    ? await syntax?.enclosingScope(text, doc.offsetAt(editor.selection.active), doc.languageId)
    : undefined;
  const pick = pickTarget({ text, selectionStart, selectionEnd, scope });
  if (pick.start === undefined) return { message: pick.message };

  const fileName = nameOf(doc.uri);
  const target: CodeTarget = { code: text.slice(pick.start, pick.end), languageId: doc.languageId, fileName, start: pick.start, end: pick.end };
  const context: ContextChunk[] = [
    { label: 'the code before it in the same file', fileName, text: text.slice(Math.max(0, pick.start - CONTEXT_CHARS), pick.start) },
    { label: 'the code after it in the same file', fileName, text: text.slice(pick.end, pick.end + CONTEXT_CHARS) },
    ...otherVisibleEditors(doc, exclude),
  ].filter((c) => c.text.trim() !== '');
  return { target, context, source: pick.source === 'scope' ? (pick.kind ?? 'scope') : pick.source };
}

/** "src/a.ts:12–30" for titles and messages. */
export function describeTarget(doc: vscode.TextDocument, target: CodeTarget): string {
  const first = doc.positionAt(target.start).line + 1;
  const end = doc.positionAt(target.end);
  // A selection of whole lines ends at the start of the next line, which it does not include.
  const last = Math.max(first, end.character === 0 ? end.line : end.line + 1);
  return first === last ? `${target.fileName}:${first}` : `${target.fileName}:${first}–${last}`;
}

function otherVisibleEditors(current: vscode.TextDocument, exclude: readonly string[]): ContextChunk[] {
  const seen = new Set([current.uri.toString()]);
  const chunks: ContextChunk[] = [];
  for (const editor of vscode.window.visibleTextEditors) {
    const doc = editor.document;
    if (seen.has(doc.uri.toString()) || !['file', 'untitled', 'vscode-remote'].includes(doc.uri.scheme)) continue;
    seen.add(doc.uri.toString());
    const fileName = nameOf(doc.uri);
    if (isExcluded(fileName, exclude)) continue;
    chunks.push({ label: 'another open editor', fileName, text: doc.getText().slice(0, CONTEXT_CHARS) });
  }
  return chunks;
}

function nameOf(uri: vscode.Uri): string {
  return uri.scheme === 'untitled' ? uri.path : vscode.workspace.asRelativePath(uri, false);
}
