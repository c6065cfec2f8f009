import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.cache/**', 'node_modules/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // The editor is a boundary: only the composition root and host/ may talk to it.
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: "Only src/extension.ts and src/host/ may import 'vscode'; pass plain data and an AbortSignal instead." }],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/extension.ts', 'src/host/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // onnxruntime-web and web-tree-sitter each have exactly one user.
    files: ['src/**/*.ts'],
    ignores: ['src/engine/backend/ort.ts', 'src/context/syntax.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: "Only src/extension.ts and src/host/ may import 'vscode'." },
          { name: 'onnxruntime-web', message: 'Only src/engine/backend/ort.ts may import onnxruntime-web.' },
          { name: 'web-tree-sitter', message: 'Only src/context/syntax.ts may import web-tree-sitter.' },
        ],
      }],
    },
  },
  {
    files: ['src/extension.ts', 'src/host/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'onnxruntime-web', message: 'Only src/engine/backend/ort.ts may import onnxruntime-web.' },
          { name: 'web-tree-sitter', message: 'Only src/context/syntax.ts may import web-tree-sitter.' },
        ],
      }],
    },
  },
  {
    // web-tree-sitter has exactly one user (and it imports no vscode).
    files: ['src/context/syntax.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: "Only src/extension.ts and src/host/ may import 'vscode'." },
          { name: 'onnxruntime-web', message: 'Only src/engine/backend/ort.ts may import onnxruntime-web.' },
        ],
      }],
    },
  },
);
