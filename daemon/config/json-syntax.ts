// Strict JSON syntax checking with positions, on top of jsonc-parser (the parser VS Code uses), for
// what JSON.parse does not say well: Node 20 often gives no position, and its message quotes the
// file's text, where an inline key may sit. Also finds duplicate keys, which JSON.parse silently
// resolves to the last one.
import { printParseErrorCode, visit, type JSONPath, type ParseErrorCode } from 'jsonc-parser';

export interface JsonSyntax {
  /** The first syntax error, if any: where it is and what to do about it, without quoting the text. */
  error?: { offset: number; message: string };
  /** Keys given twice in one object: the path of the key and both positions. */
  duplicates: { path: JSONPath; first: number; again: number }[];
}

export function checkJsonSyntax(text: string): JsonSyntax {
  const duplicates: JsonSyntax['duplicates'] = [];
  const opens: { char: '{' | '['; offset: number; keys?: Map<string, number> }[] = [];
  let error: JsonSyntax['error'];
  try {
    visit(
      text,
      {
        onObjectBegin: (offset) => void opens.push({ char: '{', offset, keys: new Map() }),
        onArrayBegin: (offset) => void opens.push({ char: '[', offset }),
        // jsonc-parser also "ends" an object it gave up on; only a real bracket closes one, so the
        // innermost unclosed bracket is still on the stack when the file ends early.
        onObjectEnd: (offset) => void (text[offset] === '}' && opens.pop()),
        onArrayEnd: (offset) => void (text[offset] === ']' && opens.pop()),
        onObjectProperty: (name, offset, _length, _line, _column, pathSupplier) => {
          const keys = opens[opens.length - 1]?.keys;
          const first = keys?.get(name);
          if (first !== undefined) duplicates.push({ path: [...pathSupplier(), name], first, again: offset });
          else keys?.set(name, offset);
        },
        onError: (code, offset) => {
          error ??= describe(text, code, offset, opens[opens.length - 1]);
        },
      },
      { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
    );
  } catch (err) {
    // jsonc-parser recurses per nesting level; absurd nesting must be a problem report, not a crash.
    if (!(err instanceof RangeError)) throw err;
    error = { offset: 0, message: 'the JSON is nested too deeply' };
  }
  return { error, duplicates };
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function describe(
  text: string,
  code: ParseErrorCode,
  offset: number,
  open: { char: '{' | '['; offset: number } | undefined,
): { offset: number; message: string } {
  if (text.trim() === '') return { offset, message: 'the file is empty; a config is a JSON object' };
  const at = text[offset];
  const before = previousToken(text, offset);
  if ((at === '}' || at === ']') && before !== undefined && text[before] === ',') {
    return { offset: before, message: `trailing comma: remove the "," before "${at}"` };
  }
  if (offset >= text.length && open) {
    const { line, column } = lineColumn(text, open.offset);
    const close = open.char === '{' ? '}' : ']';
    return { offset: text.length, message: `the file ends before the "${open.char}" at line ${line}, column ${column} is closed with "${close}"` };
  }
  if (printParseErrorCode(code) === 'UnexpectedEndOfString') {
    const lineBreak = text.slice(offset).search(/[\r\n]/);
    if (lineBreak !== -1) return { offset: offset + lineBreak, message: 'line break inside a string (a closing " is missing, or write \\n)' };
  }
  if (at === '/' && (text[offset + 1] === '/' || text[offset + 1] === '*')) return { offset, message: 'comments are not allowed in JSON' };
  if (at === "'") return { offset, message: 'JSON needs double quotes, not single quotes' };
  return { offset, message: MESSAGES[printParseErrorCode(code)] ?? 'not valid JSON here' };
}

// Keyed by printParseErrorCode's names: the enum itself is a const enum, unusable with isolatedModules.
const MESSAGES: Record<string, string> = {
  InvalidSymbol: 'expected a value; text must be in double quotes (the only bare words are true, false and null)',
  InvalidNumberFormat: 'this number is not valid JSON (no leading zeros, a digit after "-", "." and the exponent)',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":" after the property name',
  CommaExpected: 'expected "," between two entries',
  CloseBraceExpected: 'expected "," or "}" after a property value',
  CloseBracketExpected: 'expected "," or "]" after an array element',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  UnexpectedEndOfString: 'this string is never closed (a " is missing, or a line break is inside it)',
  UnexpectedEndOfNumber: 'this number ends too early',
  InvalidUnicode: 'invalid \\u escape: it needs four hex digits',
  InvalidEscapeCharacter: 'invalid escape in a string: a backslash must be followed by one of " \\ / b f n r t u',
  InvalidCharacter: 'control character inside a string (escape it, e.g. \\t or \\n)',
};

function previousToken(text: string, offset: number): number | undefined {
  for (let i = offset - 1; i >= 0; i--) if (!/\s/.test(text[i])) return i;
  return undefined;
}
