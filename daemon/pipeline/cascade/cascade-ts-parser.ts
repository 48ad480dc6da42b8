// TypeScript's own parser for the cascade's code check (TypeScript and JSX blocks): a bundle of its
// own, dist/cascade-ts-parser.js (about 3.5 MB, some 200 ms to load), required only when an answer
// first holds such a block.
import * as ts from 'typescript';

export function parseTs(code: string, tsx: boolean): string | undefined {
  const file = ts.createSourceFile(tsx ? 'answer.tsx' : 'answer.ts', code, ts.ScriptTarget.Latest, false, tsx ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  // Syntax errors only: no program, no type check (an answer's types refer to code we do not have).
  const diagnostics = (file as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? [];
  const first = diagnostics[0];
  return first ? ts.flattenDiagnosticMessageText(first.messageText, ' ') : undefined;
}
