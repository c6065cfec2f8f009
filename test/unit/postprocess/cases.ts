// What the user sees for a raw model output, per language. `doc` is the document with █ at the
// cursor; `raw` is the model's output, with ✂ where the shown text must end. The shown text is `raw`
// before ✂ (all of it without one), trailing whitespace trimmed, unless `shown` says otherwise
// (null: nothing is shown). `fallback` is what is shown without a syntax tree, where that differs.

export const CURSOR = '█';
export const CUT = '✂';

export interface Case {
  name: string;
  languageId: string;
  doc: string;
  raw: string;
  shown?: string | null;
  fallback?: string | null;
}

export const CASES: Case[] = [
  // Block end, brace languages.
  { name: 'ts: stops at the } that closes the function (the document has it)', languageId: 'typescript', doc: 'function add(a: number, b: number) {\n  █\n}\n', raw: 'const sum = a + b;\n  return sum;✂\n}\n\nfunction sub(a: number, b: number) {\n  return a - b;\n}\n' },
  { name: 'ts: keeps its own } when the document has none', languageId: 'typescript', doc: 'function add(a: number, b: number) {█', raw: '\n  return a + b;\n}✂\n\nconsole.log(add(1, 2));' },
  { name: 'ts: the } of an if inside the suggestion is not the function\'s', languageId: 'typescript', doc: 'function sign(x: number) {\n  █\n}\n', raw: 'if (x < 0) {\n    return -1;\n  }\n  return 1;✂\n}\n\nfunction abs(x: number) {' },
  { name: 'ts: a template literal at column 0 does not end the block', languageId: 'typescript', doc: 'function page(title: string) {\n  █\n}\n', raw: 'return `\n<h1>${title}</h1>\n`;✂\n}\n\nfunction footer() {', fallback: 'return `' },
  { name: 'tsx: component body ends at its }', languageId: 'typescriptreact', doc: 'export function Title() {\n  █\n}\n', raw: 'return <h1>Hi</h1>;✂\n}\n\nexport function Footer() {' },
  { name: 'js: a callback ends at }); which the document has', languageId: 'javascript', doc: 'items.forEach((item) => {\n  █\n});\n', raw: 'console.log(item);✂\n});\n\nitems.clear();' },
  { name: 'js: an object literal ends at its };', languageId: 'javascript', doc: 'const config = {█', raw: '\n  port: 8080,\n  host: "localhost",\n};✂\n\nmodule.exports = config;' },
  { name: 'js: } else { does not end the if body early, the document\'s } does', languageId: 'javascript', doc: 'function f(x) {\n  if (x) {\n    █\n  }\n}\n', raw: 'return 1;✂\n  } else {\n    return 2;\n  }\n}' },
  { name: 'go: function body ends at }', languageId: 'go', doc: 'package m\n\nfunc add(a, b int) int {\n\t█\n}\n', raw: 'return a + b✂\n}\n\nfunc sub(a, b int) int {' },
  { name: 'ruby: a method ends at end', languageId: 'ruby', doc: 'def area(r)\n  █\nend\n', raw: 'Math::PI * r * r✂\nend\n\ndef perimeter(r)' },

  // Block end, Python (dedent).
  { name: 'py: the function ends where the next def starts', languageId: 'python', doc: 'def mean(xs):\n    █\n', raw: 'total = sum(xs)\n    return total / len(xs)✂\n\ndef median(xs):\n    return sorted(xs)[len(xs) // 2]\n' },
  { name: 'py: the cursor line opens the body the suggestion fills', languageId: 'python', doc: 'def greet(name):█\n\n\ngreet("world")\n', raw: '\n    message = f"Hello, {name}!"\n    print(message)✂\n\nprint("done")' },
  { name: 'py: a nested if does not end the function body', languageId: 'python', doc: 'def sign(x):\n    █\n', raw: 'if x < 0:\n        return -1\n    return 1✂\n\nprint(sign(-3))' },
  { name: 'py: docstring lines at column 0 do not end the block', languageId: 'python', doc: 'def area(r):\n    █\n', raw: '"""Area of a circle.\n\nr: the radius.\n"""\n    return 3.14159 * r * r✂\n\nprint(area(2))', fallback: '"""Area of a circle.' },
  { name: 'py: a list ends at its ]', languageId: 'python', doc: 'PRIMES = [█', raw: '\n    2,\n    3,\n    5,\n]✂\nprint(PRIMES)' },

  // Closing brackets and quotes already after the cursor.
  { name: 'ts: the ); after the cursor is not repeated', languageId: 'typescript', doc: 'console.log(█);\n', raw: "'hello');", shown: "'hello'" },
  { name: 'ts: a pair the suggestion opens and closes is kept', languageId: 'typescript', doc: 'console.log(█);\n', raw: 'format(name)' },
  { name: 'ts: only the ) beyond its own pair is dropped', languageId: 'typescript', doc: 'console.log(█);\n', raw: 'format(name));', shown: 'format(name)' },
  { name: 'ts: quotes the suggestion opens and closes are kept, the ) is not', languageId: 'typescript', doc: 'log(█)\n', raw: '"a", "b")', shown: '"a", "b"' },
  { name: 'ts: } after a space is not repeated', languageId: 'typescript', doc: 'const p = { █ };\n', raw: 'x: 1, y: 2 };', shown: 'x: 1, y: 2' },
  { name: 'js: the closing quote is not repeated', languageId: 'javascript', doc: 'const greeting = "█";\n', raw: 'Hello, world";', shown: 'Hello, world' },
  { name: 'py: the ]) after the cursor is not repeated', languageId: 'python', doc: 'total = sum([█])\n', raw: 'x * x for x in xs])', shown: 'x * x for x in xs' },

  // Repeats of what follows the cursor.
  { name: 'ts: only repeats the rest of the line', languageId: 'typescript', doc: 'f(a█);\n', raw: ');', shown: null },
  { name: 'ts: repeats the next line', languageId: 'typescript', doc: 'function f() {\n  const a = 1;\n  █\n  return a;\n}\n', raw: 'return a;', shown: null },
  { name: 'ts: cut where it runs into the next line', languageId: 'typescript', doc: 'function f() {\n  █\n  return a;\n}\n', raw: 'const a = 1;✂\n  return a;\n}' },
  { name: 'py: repeats the next line, indented with a tab', languageId: 'python', doc: 'def f(x):\n█\n    return x\n', raw: '\treturn x', shown: null },
  { name: 'py: a line that only starts like the next one is kept', languageId: 'python', doc: 'a = 1\n█\nb = 2\n', raw: 'b = 3' },

  // Indentation: tabs vs spaces.
  { name: 'ts: tabs in a 2-space file become 2 spaces each', languageId: 'typescript', doc: 'function f(x: number) {\n  if (x > 0) {█\n  }\n  return 0;\n}\n', raw: '\n\t\treturn x;', shown: '\n    return x;' },
  { name: 'py: tabs in a 4-space file become 4 spaces each', languageId: 'python', doc: 'class Point:\n    def __init__(self, x):█\n\n    def norm(self):\n        return abs(self.x)\n', raw: '\n\t\tself.x = x', shown: '\n        self.x = x' },
  { name: 'js: spaces in a tab-indented file become tabs', languageId: 'javascript', doc: 'function f(x) {\n\tif (x) {█\n\t}\n}\n', raw: '\n        return 1;', shown: '\n\t\treturn 1;' },

  // Whitespace.
  { name: 'ts: trailing whitespace is trimmed on every line', languageId: 'typescript', doc: 'function f() {█', raw: '  \n  const a = 1;   \n  return a;\t\n}  \n\n', shown: '\n  const a = 1;\n  return a;\n}' },
  { name: 'ts: blank output shows nothing', languageId: 'typescript', doc: 'const a = █', raw: '  \n\t\n', shown: null },
  { name: 'py: blank output shows nothing', languageId: 'python', doc: 'x = █', raw: '', shown: null },

  // No grammar: indentation decides.
  { name: 'lua (no grammar): the function ends at end, which the document has', languageId: 'lua', doc: 'function area(r)\n  █\nend\n', raw: 'return math.pi * r * r✂\nend\n\nfunction perimeter(r)\n  return 2 * math.pi * r\nend' },
  { name: 'lua (no grammar): a table keeps its own }', languageId: 'lua', doc: 'local t = {█', raw: '\n  a = 1,\n  b = 2,\n}✂\nprint(t.a)' },
  { name: 'lua (no grammar): dedent to a new statement', languageId: 'lua', doc: 'for i = 1, 3 do\n  █\nend\n', raw: 'print(i)✂\nlocal x = 1' },
  { name: 'shellscript (no grammar): stops after fi', languageId: 'shellscript', doc: 'if [ -f "$1" ]; then█', raw: '\n  cat "$1"\nfi✂\necho done' },

  // Parses that cannot be trusted.
  { name: 'ts: garbage around the cursor keeps a valid single-line suggestion', languageId: 'typescript', doc: '<<<<<<< HEAD\n}}} ))) ((( {{{ @@@\nconst answer = █\n=======\n', raw: '42;' },
  { name: 'ts: garbage before the function: the block is still found', languageId: 'typescript', doc: '}}} ))) ((( {{{ @@@\nfunction f() {\n  █\n}\n', raw: 'const a = 1;\n  return a;✂\n}\n\nfunction g() {' },
  { name: 'ts: a syntax error in the block falls back to indentation', languageId: 'typescript', doc: 'function f() {\n  const a = ;\n  █\n}\n', raw: 'return a;✂\n}\n\nfunction g() {' },
  { name: 'py: a syntax error in the block falls back to indentation', languageId: 'python', doc: 'def f(x):\n    y = = 2\n    █\n', raw: 'return y✂\n\nprint(f(1))' },
];
