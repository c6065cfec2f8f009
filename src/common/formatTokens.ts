/** "1,240 tokens" rather than "1240 tokens": notices and reasons are read by people. */
export function formatTokens(tokens: number): string {
  return `${tokens.toLocaleString('en-US')} tokens`;
}
