// The little of the `vscode` module that host code under unit test touches, served in its place:
// import this before any src/host module. Settings come from `fakeVscode.settings` (absent keys read
// as undefined, so the host's reader falls back to the schema defaults).
import Module from 'node:module';

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}

export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}

export class InlineCompletionItem {
  constructor(readonly insertText: unknown, readonly range?: Range) {}
}

export class SnippetString {
  constructor(readonly value: string) {}
}

export class EventEmitter<T> {
  private readonly listeners = new Set<(event: T) => void>();
  readonly event = (listener: (event: T) => void) => {
    this.listeners.add(listener);
    return { dispose: () => { this.listeners.delete(listener); } };
  };

  fire(event: T): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  dispose(): void {
    this.listeners.clear();
  }
}

const settings = new Map<string, unknown>();
/** Fire to make the host see an edit: `{ document, contentChanges }`. */
const documentChanges = new EventEmitter<unknown>();

export const fakeVscode = {
  settings,
  Position,
  Range,
  InlineCompletionItem,
  SnippetString,
  EventEmitter,
  InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  documentChanges,
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
  /** Messages posted to webview panels, in order. */
  webviewMessages: [] as unknown[],
  window: {
    activeTextEditor: undefined as { document: unknown } | undefined,
    createWebviewPanel: () => ({
      title: '', viewColumn: 2, reveal: () => {}, dispose: () => {}, onDidDispose: () => ({ dispose() {} }),
      webview: {
        html: '', cspSource: 'vscode-webview:',
        onDidReceiveMessage: () => ({ dispose() {} }),
        postMessage: async (message: unknown) => { fakeVscode.webviewMessages.push(message); return true; },
      },
    }),
  },
  workspace: {
    onDidChangeTextDocument: documentChanges.event,
    getConfiguration: () => ({
      get: (key: string) => settings.get(key),
      inspect: (key: string) => ({ key, globalValue: settings.get(key) }),
      update: async (key: string, value: unknown) => { settings.set(key, value); },
    }),
  },
};

type Load = (request: string, ...rest: unknown[]) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
  return request === 'vscode' ? fakeVscode : load.call(this, request, ...rest);
};

/** A text document over `text`, enough for the inline provider. */
export function fakeDocument(text: string, languageId: string, fileName = `/work/file.${languageId}`) {
  const lines = text.split('\n');
  const offsetAt = (p: Position) => lines.slice(0, p.line).reduce((n, line) => n + line.length + 1, 0) + p.character;
  const positionAt = (offset: number) => {
    let line = 0;
    while (line < lines.length - 1 && offset > lines[line]!.length) offset -= lines[line++]!.length + 1;
    return new Position(line, offset);
  };
  return {
    languageId,
    fileName,
    lineCount: lines.length,
    lineAt: (line: number) => ({ range: new Range(new Position(line, 0), new Position(line, lines[line]!.length)) }),
    offsetAt,
    positionAt,
    getText: (range: Range) => text.slice(offsetAt(range.start), offsetAt(range.end)),
  };
}
