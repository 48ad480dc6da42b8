// The replay's fast path for one ledger line. JSON.parse costs about 2 µs a line, most of start-up for
// a million lines; a regular expression for the exact shape the daemon writes (entryFor in
// daemon/pipeline/ledger-line.ts: one flat object, its field order, JSON.stringify's spacing, strings
// without escapes) checks a line in a fraction of that, and the values are then read off at the
// places the match guarantees. It never decides against a line: whatever does not match (an unknown
// field, another order, whitespace, an escape, a wrong type, a torn line) or whose numbers fail the
// entry check returns undefined, and the caller runs JSON.parse and ledgerEntryProblem, which accept
// or reject it and say why. For a line it accepts, the entry is the one JSON.parse returns (same
// fields in the same order, same values) and ledgerEntryProblem finds nothing wrong with it;
// test/unit/ledger-parse.test.ts checks both, on generated and on damaged lines.
import type { LedgerEntry } from '../../shared/ledger';

/** A JSON string without escapes or raw control characters (lines with escapes take the slow path). */
const STRING = String.raw`"[^"\\\u0000-\u001f]*"`;
const NAME_OR_NULL = `(?:null|${STRING})`;
/** A JSON number (RFC 8259); whether it is a count or an amount is checked after conversion. */
const NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
const FLAG = '(?:true|false)';

// The whole line, in the order written (LEDGER_LINE_ORDER: the required fields, then the optional
// ones, `error` last), or in the order earlier daemons wrote (`error` after `ok`, cachedTokens and
// reasoningTokens after completionTokens); ledgers hold both. No captures:
// matching without them is several times faster, and once a line matches, where each value is follows
// from the characters read so far.
const SHAPE = new RegExp(
  [
    `^\\{"id":${STRING}`,
    `,"time":${STRING}`,
    `,"requestedModel":${STRING}`,
    `,"model":${NAME_OR_NULL}`,
    `,"servedModel":${NAME_OR_NULL}`,
    `,"deployment":${NAME_OR_NULL}`,
    `,"provider":${NAME_OR_NULL}`,
    `,"attempts":${NUMBER}`,
    `,"status":${NUMBER}`,
    `,"ok":${FLAG}`,
    `(?:,"error":${STRING})?`,
    `,"stream":${FLAG}`,
    `,"promptTokens":${NUMBER}`,
    `,"completionTokens":${NUMBER}`,
    `(?:,"cachedTokens":${NUMBER})?`,
    `(?:,"reasoningTokens":${NUMBER})?`,
    `,"usageSource":"(?:upstream|estimated|none)"`,
    `,"costUsd":${NUMBER}`,
    `,"latencyMs":${NUMBER}`,
    `(?:,"cachedTokens":${NUMBER})?`,
    `(?:,"cacheWriteTokens":${NUMBER})?`,
    `(?:,"reasoningTokens":${NUMBER})?`,
    `(?:,"ttftMs":${NUMBER})?`,
    `(?:,"sandbox":${FLAG})?`,
    `(?:,"key":${STRING})?`,
    `(?:,"client":${STRING})?`,
    `(?:,"error":${STRING})?`,
    `(?:,"parent":${STRING})?`,
    `(?:,"role":"(?:hedge|cascade)")?`,
    `(?:,"endpoint":"(?:chat|responses|embeddings|completions|messages)")?`,
    `(?:,"member":${STRING})?`,
    `(?:,"cascade":${STRING})?`,
    '\\}$',
  ].join(''),
);

/**
 * The fields SHAPE knows, in the order it expects them written: test/unit/ledger-parse.test.ts holds
 * this to LEDGER_LINE_ORDER (shared/ledger.ts, derived from the schema) and checks that a line with
 * every field, in that order, takes this path. SHAPE and the reads below stay written out by hand:
 * a field the code does not know must send a line to the slow path, never be skipped in silence.
 */
export const FAST_FIELDS: readonly string[] = [
  'id', 'time', 'requestedModel', 'model', 'servedModel', 'deployment', 'provider', 'attempts', 'status', 'ok', 'stream',
  'promptTokens', 'completionTokens', 'usageSource', 'costUsd', 'latencyMs', 'cachedTokens', 'cacheWriteTokens',
  'reasoningTokens', 'ttftMs', 'sandbox', 'key', 'client', 'error',
  'parent', 'role', 'endpoint', 'member', 'cascade',
];

/** Characters from the ',' before a field to its value: `,"name":`. */
function keyLength(name: string): number {
  return name.length + 4;
}

// After a ',', the key's first letter tells which optional field follows (SHAPE allows no other;
// the second letter tells cachedTokens from client).
const LETTER_C = 0x63;
const LETTER_D = 0x64;
const LETTER_E = 0x65;
const LETTER_K = 0x6b;
const LETTER_L = 0x6c;
const LETTER_M = 0x6d;
const LETTER_N = 0x6e;
const LETTER_P = 0x70;
const LETTER_R = 0x72;
const LETTER_S = 0x73;
const LETTER_T = 0x74;

/** How far reading the current line has got: the ',' before the next field, or the final '}'. */
let at = 0;

/**
 * The entry on one ledger line (without its '\n') when it has the shape the daemon writes and passes
 * the entry check; undefined otherwise, and then JSON.parse and ledgerEntryProblem decide.
 */
export function parseLedgerLine(line: string): LedgerEntry | undefined {
  if (!SHAPE.test(line)) return undefined;
  at = 0;
  // Built in the line's field order, as JSON.parse would.
  const e: Record<string, unknown> = {
    id: string(line, keyLength('id')), // '{"id":', as long as ',"id":'
    time: string(line, keyLength('time')),
    requestedModel: string(line, keyLength('requestedModel')),
    model: nameOrNull(line, keyLength('model')),
    servedModel: nameOrNull(line, keyLength('servedModel')),
    deployment: nameOrNull(line, keyLength('deployment')),
    provider: nameOrNull(line, keyLength('provider')),
    attempts: number(line, keyLength('attempts')),
    status: number(line, keyLength('status')),
    ok: flag(line, keyLength('ok')),
  };
  if (!isCount(e.attempts as number) || !Number.isSafeInteger(e.status)) return undefined;
  if (nextField(line) === LETTER_E) e.error = string(line, keyLength('error'));
  e.stream = flag(line, keyLength('stream'));
  const promptTokens = number(line, keyLength('promptTokens'));
  const completionTokens = number(line, keyLength('completionTokens'));
  if (!isCount(promptTokens) || !isCount(completionTokens)) return undefined;
  e.promptTokens = promptTokens;
  e.completionTokens = completionTokens;
  if (nextField(line) === LETTER_C && !tokens(line, e, 'cachedTokens')) return undefined;
  if (nextField(line) === LETTER_R && !tokens(line, e, 'reasoningTokens')) return undefined;
  e.usageSource = string(line, keyLength('usageSource'));
  const costUsd = number(line, keyLength('costUsd'));
  const latencyMs = number(line, keyLength('latencyMs'));
  if (!isAmount(costUsd) || !isAmount(latencyMs)) return undefined;
  e.costUsd = costUsd;
  e.latencyMs = latencyMs;
  // ',"cachedTokens"', ',"cacheWriteTokens"', ',"client"' and ',"cascade"': the second letter (a or l), the
  // third (c for the cache fields, s for cascade), then the seventh (d or W) tell them apart.
  if (nextField(line) === LETTER_C && line.charCodeAt(at + 4) === LETTER_C && line.charCodeAt(at + 7) === LETTER_D && !tokens(line, e, 'cachedTokens')) return undefined;
  if (nextField(line) === LETTER_C && line.charCodeAt(at + 4) === LETTER_C && !tokens(line, e, 'cacheWriteTokens')) return undefined;
  if (nextField(line) === LETTER_R && !tokens(line, e, 'reasoningTokens')) return undefined;
  if (nextField(line) === LETTER_T) {
    const ttftMs = number(line, keyLength('ttftMs'));
    if (!isAmount(ttftMs)) return undefined;
    e.ttftMs = ttftMs;
  }
  if (nextField(line) === LETTER_S) e.sandbox = flag(line, keyLength('sandbox'));
  if (nextField(line) === LETTER_K) e.key = string(line, keyLength('key'));
  if (nextField(line) === LETTER_C && line.charCodeAt(at + 3) === LETTER_L) e.client = string(line, keyLength('client'));
  // ',"error"' and ',"endpoint"' share their first letter; the second tells them apart.
  if (nextField(line) === LETTER_E && line.charCodeAt(at + 3) === LETTER_R) {
    if (e.error !== undefined) return undefined; // twice: JSON.parse keeps the last
    e.error = string(line, keyLength('error'));
  }
  // An extra upstream call made for another request (a hedge's loser) names it.
  if (nextField(line) === LETTER_P) e.parent = string(line, keyLength('parent'));
  if (nextField(line) === LETTER_R) e.role = string(line, keyLength('role'));
  if (nextField(line) === LETTER_E) e.endpoint = string(line, keyLength('endpoint'));
  if (nextField(line) === LETTER_M) e.member = string(line, keyLength('member'));
  // A cascade's outcome: the only field left that starts with c.
  if (nextField(line) === LETTER_C) e.cascade = string(line, keyLength('cascade'));
  return e as unknown as LedgerEntry;
}

/** Reads an optional token count into `e`; false when it is not a count or comes a second time. */
function tokens(line: string, e: Record<string, unknown>, name: 'cachedTokens' | 'cacheWriteTokens' | 'reasoningTokens'): boolean {
  const n = number(line, keyLength(name));
  if (!isCount(n) || e[name] !== undefined) return false; // twice: JSON.parse would keep the last
  e[name] = n;
  return true;
}

/** The first letter of the next field's name (NaN past the end). */
function nextField(line: string): number {
  return line.charCodeAt(at + 2);
}

/** The string value `skip` characters on (at its opening quote); moves past it. */
function string(line: string, skip: number): string {
  const start = at + skip + 1;
  const end = line.indexOf('"', start);
  at = end + 1;
  return line.slice(start, end);
}

function nameOrNull(line: string, skip: number): string | null {
  if (line.charCodeAt(at + skip) !== LETTER_N) return string(line, skip);
  at += skip + 4;
  return null;
}

function flag(line: string, skip: number): boolean {
  if (line.charCodeAt(at + skip) === LETTER_T) {
    at += skip + 4;
    return true;
  }
  at += skip + 5;
  return false;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The number `skip` characters on, with the value JSON.parse gives it; moves past it. Converting a
 * substring with Number() is slow; with at most 15 digits and no exponent, the digits form an exact
 * integer and a decimal point means one division by an exact power of ten: a correctly rounded
 * operation on exact operands, so the same double that Number() finds.
 */
function number(line: string, skip: number): number {
  const start = at + skip;
  const negative = line.charCodeAt(start) === 0x2d; /* - */
  const first = negative ? start + 1 : start;
  let n = 0;
  let point = -1;
  let exponent = false;
  let i = first;
  for (; ; i++) {
    const c = line.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) n = n * 10 + (c - 0x30);
    else if (c === 0x2e /* . */) point = i;
    else if (c === 0x2c /* , */ || c === 0x7d /* } */) break;
    else exponent = true; // e, E, or the exponent's sign
  }
  at = i;
  const digits = i - first - (point === -1 ? 0 : 1);
  if (exponent || digits > 15) return Number(line.slice(start, i));
  const v = point === -1 ? n : n / POW10[i - point - 1];
  return negative ? -v : v;
}

function isCount(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

function isAmount(v: number): boolean {
  return Number.isFinite(v) && v >= 0;
}
