// Refactor's preset instructions, and how what the user typed picks one (or becomes one). Pure.

export interface Instruction {
  /** Short, for titles: "Simplify". */
  label: string;
  /** What the model is told. */
  text: string;
}

export const PRESETS: readonly Instruction[] = [
  { label: 'Simplify', text: 'Simplify this code without changing what it does.' },
  { label: 'Add types', text: 'Add precise type annotations; change nothing else.' },
  { label: 'Extract function', text: 'Extract the repeated or separable part into a well-named function, and call it.' },
  { label: 'Add error handling', text: 'Add error handling for the failures this code can meet; keep the happy path unchanged.' },
  { label: 'Add documentation', text: 'Add documentation comments in the style of the language; change no code.' },
];

/** A preset named exactly as typed; else the highlighted preset if its name holds what was typed;
 *  else the typed text itself. Undefined when there is nothing to go on. */
export function chooseInstruction(typed: string, highlighted: Instruction | undefined): Instruction | undefined {
  const text = typed.trim();
  const exact = PRESETS.find((p) => p.label.toLowerCase() === text.toLowerCase());
  if (exact) return exact;
  if (highlighted && highlighted.label.toLowerCase().includes(text.toLowerCase())) return highlighted;
  return text === '' ? undefined : { label: text, text };
}
