// The cascade checks' JavaScript parser (acorn) and JSON Schema validator (ajv): a bundle of its own,
// dist/cascade-parsers.js, required on a cascade's first check (tools.ts), so a daemon that never
// cascades never loads them.
import { parse } from 'acorn';
import Ajv from 'ajv';

/** acorn's scope errors: a name declared or exported twice. */
const TWICE = /has already been declared|Duplicate export/;

const JS_OPTIONS = {
  ecmaVersion: 'latest',
  allowAwaitOutsideFunction: true,
  allowImportExportEverywhere: true,
  allowHashBang: true,
  allowSuperOutsideMethod: true,
} as const;

/**
 * Why this JavaScript parses neither as a module nor as a script (with a top-level return), or
 * undefined. A name declared twice is no syntax error to a reader: answers often show a function
 * "before" and "after" in one block.
 */
export function parseJs(code: string): string | undefined {
  let asModule: string;
  try {
    parse(code, { ...JS_OPTIONS, sourceType: 'module' });
    return undefined;
  } catch (err) {
    asModule = err instanceof Error ? err.message : String(err);
  }
  try {
    parse(code, { ...JS_OPTIONS, sourceType: 'script', allowReturnOutsideFunction: true });
    return undefined;
  } catch (err) {
    const asScript = err instanceof Error ? err.message : String(err);
    return TWICE.test(asModule) || TWICE.test(asScript) ? undefined : asScript;
  }
}

// Formats are not checked (they need ajv-formats, and a date written slightly off is no reason to
// pay for a second model); unknown keywords are allowed, as providers' schema dialects carry some.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });
const compiled = new Map<string, ((value: unknown) => boolean) & { errors?: unknown }>();
const UNCOMPILABLE = Object.assign(() => true, { errors: undefined });
const MAX_SCHEMAS = 200;

/** Why `value` does not match `schema`; undefined when it does or the schema cannot be compiled (unsure). */
export function validate(schema: object, value: unknown): string | undefined {
  const key = JSON.stringify(schema);
  let check = compiled.get(key);
  if (!check) {
    try {
      check = ajv.compile(schema);
    } catch {
      check = UNCOMPILABLE;
    }
    if (compiled.size >= MAX_SCHEMAS) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, check);
  }
  if (check(value)) return undefined;
  const errors = Array.isArray(check.errors) ? (check.errors as { instancePath?: string; message?: string }[]) : [];
  const first = errors[0];
  return first ? `${first.instancePath || '(root)'} ${first.message ?? 'does not match'}` : 'does not match';
}
