// Python for the cascade's code check: web-tree-sitter with the Python grammar's WebAssembly build
// (tree-sitter-python from npm). A bundle of its own, dist/cascade-tree-sitter.js, with the two .wasm
// files copied beside it (esbuild.mjs); loaded, asynchronously, only when a cascaded answer first
// holds a Python block (about 35 ms).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as WebTreeSitter from 'web-tree-sitter';

// Required, not imported: the package's CommonJS build (its ES module build reads import.meta.url,
// which a CommonJS bundle does not have).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Language, Parser } = require('web-tree-sitter') as typeof WebTreeSitter;

/** A file beside this bundle in dist/, else where npm put it (tests run the sources). */
function wasmPath(file: string, pkg: string): string {
  const beside = join(__dirname, file);
  return existsSync(beside) ? beside : require.resolve(`${pkg}/${file}`);
}

export async function loadPython(): Promise<(code: string) => string | undefined> {
  const runtime = wasmPath('tree-sitter.wasm', 'web-tree-sitter');
  await Parser.init({ locateFile: () => runtime });
  const python = await Language.load(readFileSync(wasmPath('tree-sitter-python.wasm', 'tree-sitter-python')));
  const parser = new Parser();
  parser.setLanguage(python);
  return (code) => {
    const tree = parser.parse(code);
    if (!tree) return undefined;
    try {
      if (!tree.rootNode.hasError) return undefined;
      // The first node tree-sitter could not fit into the grammar (an ERROR, or a token it had to invent).
      const bad = firstError(tree.rootNode);
      return bad ? `${bad.isMissing ? `missing ${bad.type}` : 'syntax error'} at line ${bad.startPosition.row + 1}` : 'syntax error';
    } finally {
      tree.delete();
    }
  };
}

interface SyntaxNode {
  type: string;
  isMissing: boolean;
  isError: boolean;
  hasError: boolean;
  startPosition: { row: number };
  children: (SyntaxNode | null)[];
}

function firstError(node: SyntaxNode): SyntaxNode | undefined {
  if (node.isError || node.isMissing) return node;
  for (const child of node.children) {
    if (child && (child.hasError || child.isMissing)) {
      const found = firstError(child);
      if (found) return found;
    }
  }
  return undefined;
}
