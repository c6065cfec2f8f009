// The renderings of one task: chat messages for the cloud model; for the local model the same
// system and user text when its checkpoint has a chat template (the engine renders it), else a
// plain-text prompt a completion model answers by continuing the document.
import type { ChatMessage } from '../cloud/types';
import type { ModelInfo, PromptParts } from '../engine';
import { renderChatText } from '../engine/prompt';
import type { TaskInput } from './types';

const SYSTEM = {
  explain:
    'You are Flashcode, a coding assistant in the editor. Explain the code the user shows: what it does, ' +
    'how, and anything surprising. Use the context only to understand the code. Answer in concise Markdown.',
  refactor:
    'You are Flashcode, a coding assistant in the editor. Rewrite the code the user shows as instructed. ' +
    'Keep its behaviour unless the instruction says otherwise, and keep its indentation. Answer with the ' +
    'replacement code only, in one fenced code block, with no explanation before or after it.',
} as const;

export function buildMessages(input: TaskInput): ChatMessage[] {
  const { target } = input;
  const parts = input.context.map((c) => `Context: ${c.label} (${c.fileName})\n${fence(c.text, target.languageId)}`);
  parts.push(`Code from ${target.fileName} (${target.languageId}):\n${fence(target.code, target.languageId)}`);
  parts.push(input.kind === 'refactor' ? `Instruction: ${instruction(input)}` : 'Explain this code.');
  return [
    { role: 'system', content: SYSTEM[input.kind] },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

/** What the local engine is asked: the chat messages for a model with a chat template, else the
 *  plain-text prompt. */
export function buildLocalParts(input: TaskInput, info: Pick<ModelInfo, 'chat'>): PromptParts {
  if (!info.chat) return { kind: 'text', text: buildLocalPrompt(input) };
  const [system, user] = buildMessages(input);
  return { kind: 'chat', system: system.content, user: user.content };
}

/** The local prompt as text, for counting its tokens (routing, cutting). */
export function localPromptText(input: TaskInput, info: Pick<ModelInfo, 'chat'>): string {
  const parts = buildLocalParts(input, info);
  return parts.kind === 'chat' ? renderChatText(parts.system, parts.user, info.chat) : buildLocalPrompt(input);
}

/** A comment-style header, the context, the code, then a lead-in the model continues from. */
export function buildLocalPrompt(input: TaskInput): string {
  const { target } = input;
  const c = lineComment(target.languageId);
  const task = input.kind === 'refactor'
    ? `rewrite the ${target.languageId} code from ${target.fileName} below. Instruction: ${instruction(input)}`
    : `explain the ${target.languageId} code from ${target.fileName} below.`;
  const parts = [`${c} Flashcode task: ${task}\n`];
  for (const chunk of input.context) parts.push(`${c} Context: ${chunk.label} (${chunk.fileName})\n`, withNewline(chunk.text));
  parts.push(`${c} Code from ${target.fileName}:\n`, withNewline(target.code));
  parts.push(input.kind === 'refactor' ? `${c} Rewritten code:\n` : `${c} Explanation:\n${c} `);
  return parts.join('');
}

/** A fence longer than any run of backticks inside, so code holding ``` cannot close it early. */
export function fence(text: string, languageId: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}${languageId}\n${withNewline(text)}${ticks}`;
}

function instruction(input: TaskInput): string {
  return input.instruction?.trim() || 'improve this code without changing what it does.';
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

const HASH_COMMENT = new Set([
  'python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell', 'elixir', 'julia', 'coffeescript',
]);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell', 'elm', 'ada']);

function lineComment(languageId: string): string {
  if (HASH_COMMENT.has(languageId)) return '#';
  if (DASH_COMMENT.has(languageId)) return '--';
  return '//';
}
