// Characters per token of the loaded model's tokenizer, per language: measured once on the first
// window of code long enough to tell, then fixed, so the budget (./budget) and with it the window
// start stay put. Code-v1 takes 2.6 (JavaScript) to 3.1 (Python, TypeScript) characters a token.

/** Until a language has been measured. */
export const DEFAULT_CHARS_PER_TOKEN = 3;
/** Shorter samples say too little about the language (and fit any budget anyway). */
export const MIN_SAMPLE_CHARS = 1_000;
/** Longer samples only cost tokenizer time. */
const MAX_SAMPLE_CHARS = 4_000;

export class TokenRatios {
  private readonly byLanguage = new Map<string, Promise<number>>();

  constructor(private readonly countTokens: (text: string) => Promise<number>) {}

  /** The ratio for `languageId`, measuring it on `sample()` the first time that is long enough;
   *  the default until then, or when counting fails. */
  of(languageId: string, sample: () => string): Promise<number> {
    const known = this.byLanguage.get(languageId);
    if (known) return known;
    const text = sample().slice(-MAX_SAMPLE_CHARS);
    if (text.length < MIN_SAMPLE_CHARS) return Promise.resolve(DEFAULT_CHARS_PER_TOKEN);
    const measured = this.countTokens(text).then(
      (tokens) => (tokens > 0 ? Math.floor((text.length / tokens) * 100) / 100 : DEFAULT_CHARS_PER_TOKEN),
      () => DEFAULT_CHARS_PER_TOKEN,
    );
    this.byLanguage.set(languageId, measured);
    return measured;
  }
}
