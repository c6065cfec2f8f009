import assert from 'node:assert/strict';
import { fakeDocument, fakeVscode, Position, Range, InlineCompletionItem } from '../../helpers/fakeVscode';
import type { CompletionRequest, CompletionResult, CompletionSettings } from '../../../src/completion/types';
import type { EngineHost } from '../../../src/host/engineHost';
import { InlineProvider } from '../../../src/host/inlineProvider';
import type { OutputLog } from '../../../src/host/output';

// The provider's own parameter types, since only src/host may name `vscode`.
type Provide = InlineProvider['provideInlineCompletionItems'];
type TextDocument = Parameters<Provide>[0];
type VsPosition = Parameters<Provide>[1];
type Context = Parameters<Provide>[2];
type Token = Parameters<Provide>[3];

const AUTOMATIC = { triggerKind: fakeVscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined } as Context;
const INVOKE = { triggerKind: fakeVscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined } as Context;
const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) } as unknown as Token;

interface Harness {
  provider: InlineProvider;
  calls: Array<{ request: CompletionRequest; settings: CompletionSettings }>;
  completed: CompletionResult[];
}

function harness(text: string, power = { onBattery: false }, replacedAfterCursor = 0): Harness {
  const calls: Harness['calls'] = [];
  const completed: CompletionResult[] = [];
  const pipeline = {
    complete: async (request: CompletionRequest, settings: CompletionSettings): Promise<CompletionResult> => {
      calls.push({ request, settings });
      return { text, replacedAfterCursor, source: 'engine', latencyMs: 40, ttfsMs: 20, promptTokens: 30, generatedTokens: 4, stopReason: 'stop-token' };
    },
  };
  const engineHost = { pipeline, restartAfterCrash: () => {} } as unknown as EngineHost;
  const log = { error: (error: unknown) => { throw error; } } as unknown as OutputLog;
  return { provider: new InlineProvider(engineHost, log, (r) => completed.push(r), power), calls, completed };
}

describe('InlineProvider', () => {
  afterEach(() => fakeVscode.settings.clear());

  const source = 'function add(a, b) {\n  return a + \n}\n';
  const cursor = new Position(1, 13);

  it('answers with plain text at an empty range at the cursor (what Accept Next Word / Line split)', async () => {
    const h = harness('b;');
    const items = await h.provider.provideInlineCompletionItems(fakeDocument(source, 'typescript') as unknown as TextDocument, cursor as VsPosition, AUTOMATIC, token);
    assert.equal(items?.length, 1);
    const item = items![0]!;
    assert.ok(item instanceof InlineCompletionItem);
    assert.equal(typeof item.insertText, 'string', 'not a SnippetString: partial accept needs plain text');
    assert.equal(item.insertText, 'b;');
    const range = item.range as unknown as Range;
    assert.deepEqual([range.start, range.end], [cursor, cursor]);
    assert.equal(h.calls[0]?.request.offset, source.indexOf('a + ') + 4);
    assert.equal(h.completed.length, 1);
  });

  it('a suggestion that ends with the closer after the cursor replaces it: its range covers it', async () => {
    const doc = '  return points.map()\n';
    const at = new Position(0, doc.indexOf(')'));
    const h = harness('points);', undefined, 1);
    const [item] = (await h.provider.provideInlineCompletionItems(fakeDocument(doc, 'typescript') as unknown as TextDocument, at as VsPosition, AUTOMATIC, token))!;
    const range = item!.range as unknown as Range;
    assert.deepEqual([range.start, range.end], [at, new Position(0, at.character + 1)]);
    assert.equal(item!.insertText, 'points);');
  });

  it('a suggestion that finishes after the model was switched is not shown', async () => {
    const h = harness('b;');
    const host = (h.provider as unknown as { engineHost: { pipeline: unknown } }).engineHost;
    const old = host.pipeline as { complete: (...args: unknown[]) => Promise<CompletionResult> };
    host.pipeline = { complete: async (...args: unknown[]) => {
      const result = await old.complete(...args);
      host.pipeline = { complete: old.complete }; // Choose Model loaded another model meanwhile
      return result;
    } };
    const items = await h.provider.provideInlineCompletionItems(fakeDocument(source, 'typescript') as unknown as TextDocument, cursor as VsPosition, AUTOMATIC, token);
    assert.equal(items, undefined);
    assert.equal(h.completed.length, 0, 'nor reaches the status bar');
  });

  it('an empty suggestion shows nothing but still reaches the status bar', async () => {
    const h = harness('');
    assert.equal(await h.provider.provideInlineCompletionItems(fakeDocument(source, 'typescript') as unknown as TextDocument, cursor as VsPosition, AUTOMATIC, token), undefined);
    assert.equal(h.completed.length, 1);
  });

  it('Trigger Inline Suggestion asks the pipeline for an explicit request; typing does not', async () => {
    const h = harness('x');
    for (const context of [INVOKE, AUTOMATIC]) {
      await h.provider.provideInlineCompletionItems(fakeDocument(source, 'typescript') as unknown as TextDocument, cursor as VsPosition, context, token);
    }
    assert.deepEqual(h.calls.map((c) => c.settings.explicit), [true, false]);
  });

  const cases: Array<{ name: string; languageId: string; settings?: Record<string, unknown>; onBattery?: boolean; context: Context; runs: boolean; prefetch?: boolean }> = [
    { name: 'code: runs, with prefetch', languageId: 'python', context: AUTOMATIC, runs: true, prefetch: true },
    { name: 'markdown (off by default): no work at all', languageId: 'markdown', context: AUTOMATIC, runs: false },
    { name: 'markdown, not even when asked for', languageId: 'markdown', context: INVOKE, runs: false },
    { name: 'markdown turned on by the user', languageId: 'markdown', settings: { 'flashcode.completion.languages': { '*': true, markdown: true } }, context: AUTOMATIC, runs: true, prefetch: true },
    { name: 'a language the user turned off', languageId: 'python', settings: { 'flashcode.completion.languages': { '*': true, python: false } }, context: AUTOMATIC, runs: false },
    { name: 'completions off', languageId: 'python', settings: { 'flashcode.completion.enabled': false }, context: INVOKE, runs: false },
    { name: 'on battery: automatic requests pause', languageId: 'python', onBattery: true, context: AUTOMATIC, runs: false },
    { name: 'on battery: Trigger Inline Suggestion still runs, without prefetch', languageId: 'python', onBattery: true, context: INVOKE, runs: true, prefetch: false },
    { name: 'on battery with pauseOnBattery off', languageId: 'python', onBattery: true, settings: { 'flashcode.completion.pauseOnBattery': false }, context: AUTOMATIC, runs: true, prefetch: true },
    { name: 'prefetch off stays off', languageId: 'python', settings: { 'flashcode.completion.prefetch': false }, context: AUTOMATIC, runs: true, prefetch: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      for (const [key, value] of Object.entries(c.settings ?? {})) fakeVscode.settings.set(key, value);
      const h = harness('x', { onBattery: c.onBattery ?? false });
      const items = await h.provider.provideInlineCompletionItems(fakeDocument(source, c.languageId) as unknown as TextDocument, cursor as VsPosition, c.context, token);
      assert.equal(h.calls.length, c.runs ? 1 : 0);
      assert.equal(items?.length ?? 0, c.runs ? 1 : 0);
      if (c.runs) assert.equal(h.calls[0]!.settings.prefetch, c.prefetch);
    });
  }
});
