// The checks' parsers and validator, loaded on first use. In the bundle these requires are left for
// Node and load dist/cascade-parsers.js and dist/cascade-ts-parser.js beside the daemon (esbuild.mjs);
// under tsx they load the TypeScript sources.
import type { CheckTools } from '../../routing/cascade/answer';
import type * as Parsers from './cascade-parsers';
import type * as TsParser from './cascade-ts-parser';

let parsers: typeof Parsers | undefined;
let tsParser: typeof TsParser | undefined;

function loadParsers(): typeof Parsers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  parsers ??= require('./cascade-parsers') as typeof Parsers;
  return parsers;
}

function loadTs(): typeof TsParser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tsParser ??= require('./cascade-ts-parser') as typeof TsParser;
  return tsParser;
}

export const checkTools: CheckTools = {
  parseJs: (code) => loadParsers().parseJs(code),
  parseTs: (code, tsx) => loadTs().parseTs(code, tsx),
  validate: (schema, value) => loadParsers().validate(schema, value),
};
