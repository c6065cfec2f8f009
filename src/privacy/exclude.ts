// Which files never leave the machine: flashcode.cloud.exclude, matched with minimatch against a
// workspace-relative (or absolute) file name.
import { minimatch } from 'minimatch';

/** The setting's default: environment files, keys and certificates, anything under secrets/. */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = ['.env*', '*.pem', '*.key', 'id_rsa*', '**/secrets/**'];

const OPTIONS = {
  dot: true,
  // A pattern without a slash (".env*") matches the base name in any folder.
  matchBase: true,
  // Privacy errs towards leaving out: ".ENV" on a case-insensitive disk is the same file.
  nocase: true,
};

export function isExcluded(fileName: string, patterns: readonly string[]): boolean {
  const path = normalize(fileName);
  return patterns.some((p) => p.trim() !== '' && minimatch(path, normalize(p.trim()), OPTIONS));
}

/** Forward slashes, no leading "./": the form minimatch expects on every OS. */
function normalize(fileName: string): string {
  return fileName.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}
