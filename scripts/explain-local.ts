// Explain, run as the extension runs it (runTask → router → local engine, cloud off), on three
// short functions in Python, TypeScript and JavaScript; prints each answer and how it was routed.
//   npx tsx scripts/explain-local.ts MODEL_DIR [--json]
import { runTask } from '../src/commands/runTask';
import type { TaskInput } from '../src/commands/types';
import { loadInProcessEngine } from '../src/engine/local';
import { DEFAULT_EXCLUDE_PATTERNS } from '../src/privacy/exclude';

const FUNCTIONS: { languageId: string; fileName: string; code: string }[] = [
  { languageId: 'python', fileName: 'stats.py', code: [
    'def moving_average(values, window):',
    '    if window <= 0:',
    '        raise ValueError("window must be positive")',
    '    result = []',
    '    total = 0.0',
    '    for i, v in enumerate(values):',
    '        total += v',
    '        if i >= window:',
    '            total -= values[i - window]',
    '        if i >= window - 1:',
    '            result.append(total / window)',
    '    return result',
  ].join('\n') },
  { languageId: 'typescript', fileName: 'src/debounce.ts', code: [
    'export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {',
    '  let timer: ReturnType<typeof setTimeout> | undefined;',
    '  return (...args: A) => {',
    '    if (timer !== undefined) clearTimeout(timer);',
    '    timer = setTimeout(() => {',
    '      timer = undefined;',
    '      fn(...args);',
    '    }, ms);',
    '  };',
    '}',
  ].join('\n') },
  { languageId: 'javascript', fileName: 'lib/groupBy.js', code: [
    'function groupBy(items, keyOf) {',
    '  const groups = new Map();',
    '  for (const item of items) {',
    '    const key = keyOf(item);',
    '    if (!groups.has(key)) groups.set(key, []);',
    '    groups.get(key).push(item);',
    '  }',
    '  return groups;',
    '}',
  ].join('\n') },
];

async function main() {
  const [modelDir] = process.argv.slice(2);
  if (!modelDir) throw new Error('usage: npx tsx scripts/explain-local.ts MODEL_DIR [--json]');
  const engine = await loadInProcessEngine({ modelDir });
  const answers = [];
  try {
    for (const f of FUNCTIONS) {
      const input: TaskInput = { kind: 'explain', target: { ...f, start: 0, end: f.code.length }, context: [] };
      const routes: string[] = [];
      const result = await runTask(input, {
        engine, localMaxTokens: 2048, excludePatterns: DEFAULT_EXCLUDE_PATTERNS, consent: 'denied',
        askConsent: async () => false,
        cloud: { enabled: false, baseUrl: '', model: '', apiKey: undefined, maxContextTokens: 0, timeoutMs: 1000 },
      }, { onRoute: (r) => routes.push(r.target) });
      answers.push({ fileName: f.fileName, lines: f.code.split('\n').length, route: routes, notices: result.notices, totalMs: Math.round(result.totalMs), answer: result.text });
      if (!process.argv.includes('--json')) console.log(`--- ${f.fileName} (${routes.join(' → ')}, ${Math.round(result.totalMs)} ms)${result.notices.length ? ` notices: ${result.notices.join('; ')}` : ''}\n${result.text}\n`);
    }
  } finally {
    await engine.dispose();
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify({ model: engine.info.id, chat: engine.info.chat ?? null, fim: engine.info.fim, answers }, null, 1));
}

main().catch((e) => { console.error(e); process.exit(1); });
