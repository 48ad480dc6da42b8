// The checks' parsers and validator, loaded on first use. In the bundle these requires are left for
// Node and load dist/cascade-parsers.js and dist/cascade-ts-parser.js beside the daemon (esbuild.mjs);
// under tsx they load the TypeScript sources.
import type { CheckTools } from '../../routing/cascade/answer';
import type * as Parsers from './cascade-parsers';
import type * as TsParser from './cascade-ts-parser';
import type * as TreeSitter from './cascade-tree-sitter';

// A bundle that cannot be loaded (a broken install) leaves its checks silent: unsure is no reason to escalate.
const SILENT = { parseJs: () => undefined, parseTs: () => undefined, validate: () => undefined };
/** Python's parser once loaded (asynchronously: WebAssembly); until then Python blocks go unchecked. */
let python: ((code: string) => string | undefined) | undefined;
let pythonLoading: Promise<void> | undefined;

/** Loads the Python parser (once; about 35 ms); a failure leaves Python blocks unchecked. */
export function preparePython(): Promise<void> {
  pythonLoading ??= (async () => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      python = await (require('./cascade-tree-sitter') as typeof TreeSitter).loadPython();
    } catch {
      python = () => undefined;
    }
  })();
  return pythonLoading;
}
let parsers: Pick<typeof Parsers, 'parseJs' | 'validate'> | undefined;
let tsParser: Pick<typeof TsParser, 'parseTs'> | undefined;

function loadParsers(): Pick<typeof Parsers, 'parseJs' | 'validate'> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    parsers ??= require('./cascade-parsers') as typeof Parsers;
  } catch {
    parsers = SILENT;
  }
  return parsers;
}

function loadTs(): Pick<typeof TsParser, 'parseTs'> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tsParser ??= require('./cascade-ts-parser') as typeof TsParser;
  } catch {
    tsParser = SILENT;
  }
  return tsParser;
}

export const checkTools: CheckTools = {
  parseJs: (code) => loadParsers().parseJs(code),
  parseTs: (code, tsx) => loadTs().parseTs(code, tsx),
  parsePython: (code) => python?.(code),
  validate: (schema, value) => loadParsers().validate(schema, value),
};
