// Explain / Refactor as plain data: what the host hands over, what comes back. No vscode here.

import type { ChatMessage, CloudSettings } from '../cloud/types';
import type { Engine } from '../engine';
import type { CloudConsent, Route } from '../router/types';
import type { CodeReader } from './proposalCheck';

export type TaskKind = 'explain' | 'refactor';

/** The code a task is about: the selection, else the enclosing function/class. */
export interface CodeTarget {
  code: string;
  languageId: string;
  /** Workspace-relative path when there is one; shown to the user and in the consent preview. */
  fileName: string;
  /** UTF-16 offsets of `code` in its document. */
  start: number;
  end: number;
}

/** Extra text that may help the model (the rest of the file, imports, other open files). */
export interface ContextChunk {
  label: string;
  fileName: string;
  text: string;
}

export interface TaskInput {
  kind: TaskKind;
  target: CodeTarget;
  /** Refactor only: what to change ("simplify", "add types", free text…). */
  instruction?: string;
  context: ContextChunk[];
  /** 0 (default) for the first try; a retry (1, 2…) samples the local model instead of taking
   *  its likeliest answer, which would only be the same again. */
  attempt?: number;
  /** The user asked for the cloud model: it answers when it is on, set up and allowed, even a
   *  task that fits the local model. */
  preferCloud?: boolean;
}

export type AnsweredBy = { kind: 'local'; model: string } | { kind: 'cloud'; model: string; host: string };

export interface TaskResult {
  /** Explain: Markdown. Refactor: the replacement code only (fences and chatter removed). */
  text: string;
  answeredBy: AnsweredBy;
  totalMs: number;
  /** What the user should be told, one sentence each: context left out, a cloud failure that
   *  fell back to local… */
  notices: string[];
  /** Refactor only: why `text` must not be offered for Apply (./proposalCheck.ts), as a clause. */
  refused?: string;
}

/** What a task needs from outside; the host fills it from settings, SecretStorage and UI. */
export interface TaskDeps {
  engine: Engine;
  cloud: CloudSettings;
  /** flashcode.router.localMaxTokens */
  localMaxTokens: number;
  /** Parses a proposed rewrite and its original (src/context/syntax.ts); without it, or for a
   *  language without a grammar, the check compares their words. */
  codeReader?: CodeReader;
  /** flashcode.cloud.exclude, matched against CodeTarget/ContextChunk fileName. */
  excludePatterns: readonly string[];
  consent: CloudConsent;
  /** Shows exactly what would be sent; resolves true when the user agrees. Called at most once per
   *  task, only when `consent` is 'unasked'; the host remembers the answer for the workspace. */
  askConsent(preview: { host: string; model: string; messages: ChatMessage[] }): Promise<boolean>;
}

export interface TaskCallbacks {
  signal?: AbortSignal;
  /** Streamed answer text, in order (for Refactor: raw model text before code extraction). */
  onText?: (delta: string) => void;
  /** Called once the route is known (and again if a cloud failure falls back to local: a second
   *  call voids the text streamed so far, and the local answer streams from its start). */
  onRoute?: (route: Route) => void;
}
