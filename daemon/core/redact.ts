// What an upstream's error text may not carry further: the secrets it was sent (the API key, every
// configured header value) and the request's own content (prompts), which an upstream may echo back.
// Applied where a failure is made, so the client's error, the log, the ledger and health's lastError
// all get the cleaned text.

/** Longest upstream message kept; the rest is cut. */
export const MAX_ERROR_MESSAGE = 500;
const MASK = '***';
const PROMPT_MASK = '[prompt text]';
/** Values shorter than this are too likely to occur by chance to mask (and too short to be a secret). */
const MIN_SECRET = 6;
/** Echoed request text is found in chunks of this many characters: any echo of 2·CHUNK-1 or more is. */
const CHUNK = 10;

/** Masks every occurrence of the given secrets, longest first, plus the token part of "Scheme token" values. */
export function secretMasker(values: readonly (string | undefined)[]): (text: string) => string {
  const secrets = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    const value = v.trim();
    if (value.length >= MIN_SECRET) secrets.add(value);
    // "Bearer gw-123456": the upstream may echo only the token.
    for (const part of value.split(/\s+/)) if (part.length >= 8 && part !== value) secrets.add(part);
  }
  const list = [...secrets].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  };
}

/**
 * Replaces every stretch of `message` that also occurs in one of `texts` (2·CHUNK-1 characters or
 * longer) with "[prompt text]". The texts are sampled every CHUNK characters, so a large prompt costs
 * a lookup per CHUNK characters, and only when an error is being recorded.
 */
export function scrubEchoes(message: string, texts: readonly string[]): string {
  if (message.length < CHUNK) return message;
  const at = new Map<string, number[]>();
  for (let i = 0; i + CHUNK <= message.length; i++) {
    const gram = message.slice(i, i + CHUNK);
    const list = at.get(gram);
    if (list) list.push(i);
    else at.set(gram, [i]);
  }
  const covered = new Uint8Array(message.length);
  let any = false;
  for (const text of texts) {
    if (text.length < 2 * CHUNK - 1) continue;
    for (let p = 0; p + CHUNK <= text.length; p += CHUNK) {
      const hits = at.get(text.slice(p, p + CHUNK));
      if (!hits) continue;
      for (const q of hits) {
        if (covered[q]) continue;
        // Grow the match both ways to its full length.
        let start = q;
        let from = p;
        while (start > 0 && from > 0 && message[start - 1] === text[from - 1]) {
          start--;
          from--;
        }
        let end = q + CHUNK;
        let to = p + CHUNK;
        while (end < message.length && to < text.length && message[end] === text[to]) {
          end++;
          to++;
        }
        if (end - start < 2 * CHUNK - 1) continue;
        covered.fill(1, start, end);
        any = true;
      }
    }
  }
  if (!any) return message;
  let out = '';
  for (let i = 0; i < message.length; ) {
    if (!covered[i]) {
      out += message[i++];
      continue;
    }
    while (i < message.length && covered[i]) i++;
    out += PROMPT_MASK;
  }
  return out;
}

/** Every string in a request body long enough to be found by scrubEchoes (iterative: bodies may nest). */
export function requestTexts(body: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.length >= 2 * CHUNK - 1) out.push(v);
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const item of Object.values(v)) stack.push(item);
    }
  }
  return out;
}

/** Cuts a message to MAX_ERROR_MESSAGE characters, saying so. */
export function truncateMessage(message: string, max = MAX_ERROR_MESSAGE): string {
  return message.length <= max ? message : `${message.slice(0, max)}… (${message.length - max} more characters cut)`;
}
