// VS Code language ids for what the CLI and task files know about a document: a file name, or a
// language name as people write it ("ts", "Python", "c++"). Unknown names pass through lowercased.

const BY_NAME: Readonly<Record<string, string>> = {
  ts: 'typescript', tsx: 'typescriptreact', js: 'javascript', jsx: 'javascriptreact', node: 'javascript',
  py: 'python', python3: 'python', rb: 'ruby', rs: 'rust', golang: 'go', 'c++': 'cpp', cxx: 'cpp', cc: 'cpp',
  h: 'c', cs: 'csharp', 'c#': 'csharp', kt: 'kotlin', sh: 'shellscript', bash: 'shellscript', shell: 'shellscript',
  zsh: 'shellscript', yml: 'yaml', md: 'markdown',
};

const BY_EXTENSION: Readonly<Record<string, string>> = {
  ...BY_NAME,
  mjs: 'javascript', cjs: 'javascript', mts: 'typescript', cts: 'typescript', pyi: 'python', hpp: 'cpp',
  hh: 'cpp', cpp: 'cpp', c: 'c', java: 'java', go: 'go', lua: 'lua', php: 'php', json: 'json', yaml: 'yaml',
  txt: 'plaintext',
};

export function languageIdForName(name: string): string {
  const key = name.trim().toLowerCase();
  return BY_NAME[key] ?? key;
}

/** The id for a file's extension; '' when the extension says nothing. */
export function languageIdForFile(fileName: string): string {
  const match = /\.([^./\\]+)$/.exec(fileName);
  return match ? BY_EXTENSION[match[1]!.toLowerCase()] ?? '' : '';
}
