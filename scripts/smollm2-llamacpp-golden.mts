// Writes test/golden/smollm2-llamacpp.json: llama.cpp's (node-llama-cpp, CPU) greedy continuation of
// a few code prompts on the real SmolLM2-135M-Instruct Q4_1 GGUF — each prompt's token ids, the 64
// greedy ids and the top logits at every step — for an agreement test of Flashcode's forward pass on
// the imported model (teacher-forced on these ids: same argmax, logits close).
// `node scripts/fetch-smollm2.mjs && node scripts/install-llamacpp.mjs && npx tsx scripts/smollm2-llamacpp-golden.mts`
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const peer = path.join(root, '.cache/node-llama-cpp/node_modules/node-llama-cpp');
type Token = number & { __token: never };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-llama-cpp lives outside the project (.cache/node-llama-cpp)
const { getLlama } = (await import(path.join(peer, 'dist/index.js'))) as { getLlama: (o: object) => Promise<any> };
const GGUF = path.join(root, '.cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf');
const OUT = path.join(root, 'test/golden/smollm2-llamacpp.json');
const STEPS = 64;
const TOP = 5;

const PROMPTS = [
  'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n',
  'import os\n\ndef list_python_files(root):\n    result = []\n    for dirpath, _, filenames in os.walk(root):\n',
  'export function debounce<T extends (...args: unknown[]) => void>(fn: T, ms: number): T {\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n',
  '// Sort an array of numbers in place using quicksort.\nfunction quicksort(arr, lo = 0, hi = arr.length - 1) {\n',
  '#include <stdio.h>\n\nint main(void) {\n    int total = 0;\n    for (int i = 1; i <= 10; i++) {\n',
  '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nExplain this code:\n```python\ndef add(a, b):\n    return a + b\n```<|im_end|>\n<|im_start|>assistant\n',
  'SELECT name, COUNT(*) AS orders\nFROM customers c\nJOIN orders o ON o.customer_id = c.id\n',
];

const llama = await getLlama({ gpu: false, build: 'never' });
const model = await llama.loadModel({ modelPath: GGUF });
const context = await model.createContext({ contextSize: 1024, threads: 1 });
const sequence = context.getSequence();
const goldens = [];
for (const text of PROMPTS) {
  await sequence.clearHistory();
  const promptIds: Token[] = [...model.tokenize(text, true)];
  const greedy: number[] = [];
  const top: [number, number][][] = [];
  let input: Token[] = promptIds;
  for (let step = 0; step < STEPS; step++) {
    const last = input.length - 1;
    const out = await sequence.controlledEvaluate([
      ...input.slice(0, last),
      [input[last], { generateNext: { logits: { filter: { tokens: [], includeTop: TOP } } } }],
    ]);
    const logits = out[last]?.next.logits;
    if (!logits) throw new Error('no logits from llama.cpp');
    const ranked = [...logits.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
    const next = ranked[0][0];
    greedy.push(next);
    top.push(ranked.map(([id, logit]) => [id, Math.round(logit * 1e4) / 1e4]));
    input = [next];
  }
  goldens.push({ text, promptIds, greedyIds: greedy, topLogits: top, greedyText: model.detokenize(greedy as Token[]) });
}
const sha256 = crypto.createHash('sha256').update(fs.readFileSync(GGUF)).digest('hex');
fs.writeFileSync(OUT, `${JSON.stringify({
  about: 'llama.cpp greedy decoding of SmolLM2-135M-Instruct.Q4_1.gguf on CPU (node-llama-cpp, getLlama({gpu: false, build: "never"}), one thread, context 1024): per prompt its ids (tokenize(text, true), no BOS), the 64 greedy ids and, per step, the top logits [id, logit] rounded to 1e-4, best first. Written by scripts/smollm2-llamacpp-golden.mts.',
  model: { file: path.basename(GGUF), sha256 },
  llamaCpp: { package: 'node-llama-cpp', version: JSON.parse(fs.readFileSync(path.join(peer, 'package.json'), 'utf8')).version },
  steps: STEPS,
  prompts: goldens,
})}\n`);
console.log(`${OUT}: ${goldens.length} prompts × ${STEPS} steps`);
for (const g of goldens) console.log(JSON.stringify(g.greedyText.slice(0, 100)));
await context.dispose();
await model.dispose();
await llama.dispose();
