// Arithmetic that does not hold: `a op b = c` chains in the answer's prose (code blocks and inline code
// left out), with thousands separators, currency signs and percent. It stays silent whenever it cannot
// be sure what an expression means (a number glued to a letter, a power, a range like 10-20, a percent
// added to a plain number, "in binary"...), and allows the stated result to be rounded or cut to the
// digits it shows. Pure; runs in microseconds on a long answer.
import type { CheckFailure } from './answer';

const NUM = String.raw`(?:[$\u20ac\u00a3\u00a5]\s?)?-?\d[\d,.]*%?`;
const OP = String.raw`\s*(?:[+\-*/\u00d7\u00f7\u00b7]|\sx(?=\s))\s*`;
const EXPR = `${NUM}(?:${OP}${NUM})*`;
/** An expression with at least one operator, then one or more `= expression`. */
const CHAIN = new RegExp(`${NUM}(?:${OP}${NUM})+(?:\\s*=\\s*${EXPR})+`, 'g');
const NUMBER_TOKEN = /^([$\u20ac\u00a3\u00a5])?\s?(-)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%)?$/;
const FENCED = /```[\s\S]*?(?:```|$)/g;
const INLINE = /`[^`\n]*`/g;
const OTHER_BASE = /^\s*(?:\(?\s*mod\b|modulo|in (?:binary|base|hex|octal)|\(base|\(binary|\(mod)/i;

interface Num {
  value: number;
  /** Smallest step the text shows: 1 for an integer, 0.01 for two decimals (in the value's units). */
  step: number;
  percent: boolean;
}

type Token = { kind: 'num'; n: Num } | { kind: 'op'; op: string; spaced: boolean };

export function checkArithmetic(content: string): CheckFailure | undefined {
  if (!/\d%?\s*=\s*[$\u20ac\u00a3\u00a5-]?\d/.test(content)) return undefined; // the common case: nothing to read
  const prose = content.replace(FENCED, ' ').replace(INLINE, ' ').replace(/\u2212/g, '-');
  CHAIN.lastIndex = 0;
  for (let m = CHAIN.exec(prose); m !== null; m = CHAIN.exec(prose)) {
    let text = m[0];
    // Sentence punctuation after the last number belongs to the sentence.
    while (/[.,]$/.test(text)) text = text.slice(0, -1);
    const start = m.index;
    const end = start + text.length;
    if (!clearBefore(prose, start) || !clearAfter(prose, end)) continue;
    const wrong = wrongChain(text);
    if (wrong) return { check: 'arithmetic', detail: wrong };
  }
  return undefined;
}

/** Nothing glued before the expression (a letter, a power, a closing bracket) and no operator just before it. */
function clearBefore(text: string, start: number): boolean {
  if (start === 0) return true;
  const c = text[start - 1];
  if (/[\w.,^)(\]$\u20ac\u00a3\u00a5%/\\]/.test(c)) return false;
  const before = text.slice(Math.max(0, start - 8), start).trimEnd();
  return !/[+\-*/\u00d7\u00f7\u00b7^=<>\u2248~]$/.test(before);
}

/** Nothing glued after it (a unit, a power, an opening bracket), and not "in binary" or "mod n". */
function clearAfter(text: string, end: number): boolean {
  const c = text[end];
  if (c === undefined) return true;
  if (/[\w^([$\u20ac\u00a3\u00a5%]/.test(c)) return false;
  if (/^[.,]\d/.test(text.slice(end, end + 2))) return false;
  const rest = text.slice(end, end + 24);
  if (/^\s*[*/\u00d7\u00f7\u00b7^(]/.test(rest)) return false;
  return !OTHER_BASE.test(rest);
}

/** Why the chain does not hold, or undefined when it does or when it cannot be read for sure. */
function wrongChain(text: string): string | undefined {
  if (/\d-\d/.test(text)) return undefined; // 10-20: a range as often as a subtraction
  if (/\d\s*\/\s*\d+\s*\/\s*\d/.test(text)) return undefined; // 12/25/2024: a date
  const sides = text.split('=');
  const parsed = sides.map(tokens);
  if (parsed.some((p) => p === undefined)) return undefined;
  const first = evaluate(parsed[0] as Token[]);
  if (first === undefined) return undefined;
  let previous = first;
  for (let i = 1; i < parsed.length; i++) {
    const side = parsed[i] as Token[];
    if (side.length === 1 && side[0].kind === 'num') {
      const stated = side[0].n;
      if (!close(previous, stated)) return `${sides.slice(0, i).join('=').trim()} is ${show(previous)}, not ${sides[i].trim()}`;
      continue;
    }
    const value = evaluate(side);
    if (value === undefined) return undefined;
    // `= 15 × 2 = 30` carries a running total on; `= 3 × 2` restates the same value. Anything else: unsure.
    const lead = side[0].kind === 'num' ? side[0].n : undefined;
    if (!close(previous, { value: value.value, step: value.step, percent: false }) && !(lead && close(previous, lead))) return undefined;
    previous = value;
  }
  return undefined;
}

function tokens(side: string): Token[] | undefined {
  const out: Token[] = [];
  const re = new RegExp(`(${NUM})|(${OP})`, 'gy');
  const s = side.trim();
  re.lastIndex = 0;
  let expectNumber = true;
  while (re.lastIndex < s.length) {
    const at = re.lastIndex;
    const m = re.exec(s);
    if (!m) return undefined;
    if (expectNumber && m[1] !== undefined) {
      const n = number(m[1]);
      if (!n) return undefined;
      out.push({ kind: 'num', n });
      expectNumber = false;
    } else if (!expectNumber && m[2] !== undefined) {
      const raw = m[2];
      const op = raw.trim() === '' ? 'x' : raw.trim();
      out.push({ kind: 'op', op, spaced: /^\s/.test(raw) && /\s$/.test(raw) });
      expectNumber = true;
    } else return undefined;
    if (re.lastIndex === at) return undefined;
  }
  return expectNumber ? undefined : out;
}

function number(raw: string): Num | undefined {
  const m = NUMBER_TOKEN.exec(raw.trim());
  if (!m) return undefined;
  const [, , minus, whole, fraction, percent] = m;
  const decimals = fraction ? fraction.length - 1 : 0;
  let value = Number(whole.replace(/,/g, '') + (fraction ?? ''));
  let step = 10 ** -decimals;
  if (minus) value = -value;
  if (percent) {
    value /= 100;
    step /= 100;
  }
  return Number.isFinite(value) ? { value, step, percent: percent !== undefined } : undefined;
}

/** The value of one side with the usual precedence; undefined when its meaning is unsure. */
function evaluate(side: Token[]): { value: number; step: number; percent: false } | undefined {
  // A percent added to or taken from a plain number (100 + 10% = 110) means "of it" to some writers.
  for (let i = 1; i < side.length; i += 2) {
    const op = side[i] as { op: string };
    const a = (side[i - 1] as { n: Num }).n;
    const b = (side[i + 1] as { n: Num }).n;
    if ((op.op === '+' || op.op === '-') && a.percent !== b.percent) return undefined;
  }
  // Products and quotients first.
  const terms: { value: number; sign: number }[] = [];
  let current = (side[0] as { n: Num }).n.value;
  let sign = 1;
  for (let i = 1; i < side.length; i += 2) {
    const op = (side[i] as { op: string }).op;
    const next = (side[i + 1] as { n: Num }).n.value;
    if (op === '+' || op === '-') {
      terms.push({ value: current, sign });
      sign = op === '+' ? 1 : -1;
      current = next;
    } else if (op === '/' || op === '\u00f7') {
      if (next === 0) return undefined;
      current /= next;
    } else current *= next;
  }
  terms.push({ value: current, sign });
  const value = terms.reduce((sum, t) => sum + t.sign * t.value, 0);
  return Number.isFinite(value) ? { value, step: 0, percent: false } : undefined;
}

/**
 * Whether `stated` is `actual` to the digits it shows: rounded or cut, so off by less than one step of
 * its last digit (2 + 2 = 5 is off by a whole step), with a hair for binary fractions.
 */
function close(actual: { value: number }, stated: Num): boolean {
  const tolerance = Math.max(stated.step * 0.999999, 1e-9) + Math.abs(stated.value) * 1e-12;
  return Math.abs(actual.value - stated.value) < tolerance;
}

function show(v: { value: number }): string {
  return String(Number(v.value.toPrecision(12)));
}
