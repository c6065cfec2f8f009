// Which files never leave the machine: flashcode.cloud.exclude, matched with minimatch against a
// workspace-relative (or absolute) file name. A pattern minimatch cannot use (too long, too many
// brace expansions) fails closed: every file counts as excluded until it is fixed, and
// unusablePatterns says which and why, so the user can be told once instead of every task failing.
import { Minimatch } from 'minimatch';

/** The setting's default: environment files, keys and certificates, anything under secrets/. */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = ['.env*', '*.pem', '*.key', 'id_rsa*', '**/secrets/**'];

const OPTIONS = {
  dot: true,
  // Privacy errs towards leaving out: ".ENV" on a case-insensitive disk is the same file.
  nocase: true,
};

type Compiled = { matcher: Minimatch; anyFolder: boolean } | { unusable: string };
const compiled = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  let c = compiled.get(pattern);
  if (!c) {
    try {
      const p = normalize(pattern);
      // As in .gitignore, a pattern without a slash (".env*") matches the name of the file or of
      // any folder it is in, so what is inside a folder named like a secret (".env.d/") stays too.
      c = { matcher: new Minimatch(p, OPTIONS), anyFolder: !p.includes('/') };
    } catch (e) {
      c = { unusable: e instanceof Error ? e.message : String(e) };
    }
    if (compiled.size > 1000) compiled.clear(); // settings change rarely; bound it anyway
    compiled.set(pattern, c);
  }
  return c;
}

export function isExcluded(fileName: string, patterns: readonly string[]): boolean {
  const path = normalize(fileName);
  return patterns.some((p) => {
    if (p.trim() === '') return false;
    const m = compile(p.trim());
    if ('unusable' in m) return true;
    return m.anyFolder ? path.split('/').some((name) => m.matcher.match(name)) : m.matcher.match(path);
  });
}

/** The patterns that cannot be used, with minimatch's reason: each excludes every file. */
export function unusablePatterns(patterns: readonly string[]): { pattern: string; reason: string }[] {
  return patterns.flatMap((p) => {
    const m = p.trim() === '' ? undefined : compile(p.trim());
    return m && 'unusable' in m ? [{ pattern: p.trim(), reason: m.unusable }] : [];
  });
}

/** Forward slashes, no leading "./": the form minimatch expects on every OS. */
function normalize(fileName: string): string {
  return fileName.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}
