// Code blocks that do not parse: fenced blocks tagged JavaScript, TypeScript (with or without JSX),
// Python or JSON, through a real parser (injected: acorn, TypeScript's own and tree-sitter's Python
// grammar, loaded on first use). Untagged
// blocks and other languages are left alone, and so is a block with a placeholder a reader is meant
// to fill in (`...`, `…`, `<YOUR_KEY>`): it was never meant to run as it stands.
import type { CheckFailure, CheckTools } from './answer';

const FENCE = /^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)^[ \t]*```[ \t]*$/gm;
const JS = new Set(['js', 'javascript', 'mjs', 'cjs', 'node', 'es6']);
const JSX = new Set(['jsx']);
const TS = new Set(['ts', 'typescript', 'mts', 'cts']);
const TSX = new Set(['tsx']);
const JSON_TAGS = new Set(['json']);
const PYTHON = new Set(['python', 'py', 'python3']);
/** `...` not followed by something spreadable, `…`, or an <ANGLE_PLACEHOLDER>. */
const PLACEHOLDER = /\.\.\.(?![\w$([{'"`])|\u2026|<[A-Z][A-Z0-9_-]*>|\bTODO: fill/;
/** JSX in a block tagged js. */
const LOOKS_JSX = /<\/[A-Za-z]|\/>|<[A-Z][\w.]*[\s>]/;

type CodeTools = Pick<CheckTools, 'parseJs' | 'parseTs' | 'parsePython'>;

/** Whether the answer holds a Python block: the pipeline loads the Python parser (asynchronously) first. */
export const PYTHON_FENCE = /^[ \t]*```[ \t]*(?:python3?|py)\b/im;

export function checkCode(content: string, tools: CodeTools): CheckFailure | undefined {
  if (!content.includes('```')) return undefined;
  FENCE.lastIndex = 0;
  for (let m = FENCE.exec(content); m !== null; m = FENCE.exec(content)) {
    const lang = m[1].toLowerCase();
    const code = m[2];
    if (code.trim() === '' || PLACEHOLDER.test(code)) continue;
    const problem = problemIn(lang, code, tools);
    if (problem) return { check: 'code', detail: `a ${lang} block does not parse: ${problem}` };
  }
  return undefined;
}

function problemIn(lang: string, code: string, tools: CodeTools): string | undefined {
  if (PYTHON.has(lang)) return tools.parsePython(code);
  if (JS.has(lang)) {
    const problem = tools.parseJs(code);
    // acorn has no JSX and no type annotations; TypeScript's parser gets a second say on those.
    if (problem && LOOKS_JSX.test(code)) return tools.parseTs(code, true) === undefined ? undefined : problem;
    return problem;
  }
  if (JSX.has(lang) || TSX.has(lang)) return tools.parseTs(code, true);
  if (TS.has(lang)) return tools.parseTs(code, false);
  if (JSON_TAGS.has(lang)) {
    // JSON with comments (tsconfig, VS Code settings) is JSONC: a reader expects it, a parser refuses it.
    if (/^\s*\/\/|\/\*/m.test(code)) return undefined;
    try {
      JSON.parse(code);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : 'invalid JSON';
    }
  }
  return undefined;
}
