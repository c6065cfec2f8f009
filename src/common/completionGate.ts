// Whether inline completions may run, decided before any work is done: the global switch, the
// per-language map (flashcode.completion.languages) and the battery pause. The inline provider asks
// it per request and the status bar per active editor, so both always agree.

/** VS Code language id → on/off; `"*"` is every language not named. */
export type LanguageMap = Readonly<Record<string, boolean>>;

/** Prose and commit messages get no code suggestions unless the user asks for them. */
export const DEFAULT_LANGUAGES: LanguageMap = { '*': true, plaintext: false, markdown: false, scminput: false };

export type Gate =
  /** `batterySaving`: asked for explicitly while paused on battery; answer, but start no
   *  speculative work (prefetch). */
  | { kind: 'on'; batterySaving: boolean }
  /** flashcode.completion.enabled is false. */
  | { kind: 'off' }
  | { kind: 'off-language'; languageId: string }
  /** On battery with flashcode.completion.pauseOnBattery: automatic requests wait for mains power. */
  | { kind: 'paused'; reason: 'battery' };

export interface GateInput {
  enabled: boolean;
  languages: LanguageMap;
  pauseOnBattery: boolean;
  /** Undefined when there is no document (a status bar with no active editor). */
  languageId: string | undefined;
  onBattery: boolean;
  /** The user asked for a suggestion ("Trigger Inline Suggestion"): a pause does not apply. */
  explicit: boolean;
}

export function completionGate(input: GateInput): Gate {
  if (!input.enabled) return { kind: 'off' };
  if (input.languageId !== undefined && !isLanguageEnabled(input.languages, input.languageId)) {
    return { kind: 'off-language', languageId: input.languageId };
  }
  const paused = input.pauseOnBattery && input.onBattery;
  if (paused && !input.explicit) return { kind: 'paused', reason: 'battery' };
  return { kind: 'on', batterySaving: paused };
}

export function isLanguageEnabled(languages: LanguageMap, languageId: string): boolean {
  if (Object.hasOwn(languages, languageId)) return languages[languageId]!;
  return Object.hasOwn(languages, '*') ? languages['*']! : true;
}

/** The boolean entries of a settings value; the default map for anything that is not an object
 *  (VS Code does not enforce a schema on what it hands back). */
export function languageMap(value: unknown): LanguageMap {
  return isObject(value) ? ownEntries(value) : DEFAULT_LANGUAGES;
}

/** The boolean entries of one settings level (user, workspace): none for anything not an object. */
export function ownEntries(value: unknown): Record<string, boolean> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, boolean] => typeof entry[1] === 'boolean'));
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
