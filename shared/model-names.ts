// Model names as clients send them, and the alias patterns that catch them. Pure helpers shared by the
// config check (ambiguous patterns are refused at load) and the daemon's name resolution
// (daemon/routing/names.ts). A pattern is an alias with `*` (any run of characters, none included)
// or `?` (one character); matching is case-insensitive.

/** True when the alias is a pattern rather than an exact name. */
export function isPattern(alias: string): boolean {
  return alias.includes('*') || alias.includes('?');
}

/**
 * The name with the decorations clients add and drop from release to release taken off: case, a
 * context suffix such as `[1m]`, `-latest`, a date suffix (`-20251001`, `-2025-04-14`, `@20250929`),
 * and dashes between version numbers read as dots (`claude-haiku-4-5` is `claude-haiku-4.5`).
 */
export function normaliseModelName(name: string): string {
  let n = name.trim().toLowerCase();
  n = n.replace(/\[[^\]]*\]$/, ''); // context suffix: claude-sonnet-4-5[1m]
  n = n.replace(/[-@](?:20\d{6}|20\d{2}-\d{2}-\d{2})$/, ''); // date suffix
  n = n.replace(/-latest$/, '');
  // Version numbers: 4-5 -> 4.5, but only short numbers (a date or a long id is not a version).
  n = n.replace(/(^|[^\d])(\d{1,2})[-.](?=\d{1,2}(?:$|[^\d]))/g, '$1$2.');
  n = n.replace(/(\d\.\d{1,2})[-.](?=\d{1,2}(?:$|[^\d]))/g, '$1.'); // a third part: 4-5-1
  return n;
}

/** Does the (lower-cased) pattern match the (lower-cased) name? */
export function patternMatches(pattern: string, name: string): boolean {
  // Iterative glob match with backtracking to the last star: linear in practice.
  let p = 0;
  let s = 0;
  let star = -1;
  let mark = 0;
  while (s < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[s])) {
      p++;
      s++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = s;
    } else if (star >= 0) {
      p = star + 1;
      s = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * How specific a pattern is: more literal characters first, then a longer literal prefix. When two
 * patterns of different groups match a name, the more specific one wins.
 */
export function specificity(pattern: string): [number, number] {
  let literal = 0;
  for (const c of pattern) if (c !== '*' && c !== '?') literal++;
  const firstWild = pattern.search(/[*?]/);
  return [literal, firstWild < 0 ? pattern.length : firstWild];
}

export function compareSpecificity(a: string, b: string): number {
  const [la, pa] = specificity(a);
  const [lb, pb] = specificity(b);
  return la !== lb ? la - lb : pa - pb;
}

/** Could some name match both patterns? (Product of the two globs, memoised.) */
export function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const go = (i: number, j: number): boolean => {
    const key = i * width + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let out: boolean;
    if (i === a.length && j === b.length) out = true;
    else if (i < a.length && a[i] === '*') out = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') out = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i < a.length && j < b.length && (a[i] === b[j] || a[i] === '?' || b[j] === '?')) out = go(i + 1, j + 1);
    else out = false;
    memo.set(key, out);
    return out;
  };
  return go(0, 0);
}

/**
 * Pairs of patterns (of different groups) that are equally specific and can match the same name:
 * neither would win, so such a config is refused. Each clash is named with one example it can't settle.
 */
export function patternClashes(patterns: { pattern: string; group: string }[]): { a: { pattern: string; group: string }; b: { pattern: string; group: string } }[] {
  const out: { a: { pattern: string; group: string }; b: { pattern: string; group: string } }[] = [];
  for (let i = 0; i < patterns.length; i++) {
    for (let j = i + 1; j < patterns.length; j++) {
      const a = patterns[i];
      const b = patterns[j];
      if (a.group === b.group) continue;
      const pa = a.pattern.toLowerCase();
      const pb = b.pattern.toLowerCase();
      if (compareSpecificity(pa, pb) !== 0) continue;
      if (patternsOverlap(pa, pb)) out.push({ a, b });
    }
  }
  return out;
}
