// Where a task runs. Pure data: the decision is a function of these numbers and flags only.

export type CloudConsent = 'granted' | 'denied' | 'unasked';

export interface RouteInput {
  /** Tokens of the whole prompt (instruction + code + context) in the local model's tokenizer. */
  promptTokens: number;
  /** Tokens of the prompt without its context (instruction + code): what must fit for the local
   *  model to see all of the code. Default promptTokens. */
  codeTokens?: number;
  /** Tokens reserved for the answer. */
  answerTokens: number;
  /** min(local model context, flashcode.router.localMaxTokens). */
  localWindowTokens: number;
  /** Which of the two bounds localWindowTokens: the model's context window or the setting. */
  localWindowBy?: 'model' | 'setting';
  /** The user asked for the cloud model: used when allowed even if the task fits locally. */
  preferCloud?: boolean;
  /** The target's file matches flashcode.cloud.exclude: it may be answered locally, never in the cloud. */
  targetExcluded?: boolean;
  cloud: {
    enabled: boolean;
    /** Base URL and model set, and an API key in SecretStorage (or a keyless local endpoint). */
    configured: boolean;
    consent: CloudConsent;
    maxContextTokens: number;
  };
}

export type Route =
  | { target: 'local' }
  /** askConsent: the host must ask first (and show the preview); a "no" re-routes with consent 'denied'. */
  | { target: 'cloud'; askConsent: boolean }
  /** The prompt is cut to `promptBudgetTokens`; `reason` tells the user why the cloud was not used. */
  | { target: 'local-cut'; promptBudgetTokens: number; reason: string };
