// Next-token choice from logits: greedy, or temperature + nucleus (top-p) with a seeded PRNG.

/** mulberry32: tiny, fast, and the same sequence on every platform for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export interface SamplerOptions {
  temperature: number;
  topP: number;
  random: () => number;
}

export function sampleToken(logits: Float32Array, { temperature, topP, random }: SamplerOptions): number {
  if (temperature <= 0) return argmax(logits);
  const max = logits[argmax(logits)];
  const order = Array.from(logits.keys());
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
  order.sort((x, y) => probs[y] - probs[x] || x - y);
  // Smallest set of most likely tokens whose mass reaches topP.
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP * sum)) mass += probs[order[kept++]];
  let r = random() * mass;
  for (let k = 0; k < kept; k++) {
    r -= probs[order[k]];
    if (r <= 0) return order[k];
  }
  return order[kept - 1];
}
