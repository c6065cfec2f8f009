/** One line for a person: a named error's name and message ("ModelFileCorruptError: ffn.bin is
 *  corrupt (…) — reinstall Flashcode …"), a plain Error's message, or whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  }
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return String(error);
}
