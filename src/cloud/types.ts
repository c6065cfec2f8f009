// What the cloud client is given: the chat messages it sends and the settings it sends them with.
// Explain and Refactor (commands/) build both; the client knows nothing of tasks.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CloudSettings {
  enabled: boolean;
  baseUrl: string;
  model: string;
  /** From SecretStorage only; never logged, never in an error message. */
  apiKey: string | undefined;
  maxContextTokens: number;
  /** Longest silence tolerated from the endpoint: before the answer starts and between chunks;
   *  a whole request may last 10 times this (cloud/limits.ts). */
  timeoutMs: number;
  /** Optional: one line per cloud request and failure, for the output channel (never the key). */
  log?: (line: string) => void;
}
