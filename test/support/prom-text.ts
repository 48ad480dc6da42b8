// A strict parser for the Prometheus text exposition format (version 0.0.4), for tests: no parser for
// it is installed (prom-client only writes it). It throws on anything Prometheus would reject or that
// the format forbids: bad names, bad escapes, samples before their TYPE, a TYPE given twice, duplicate
// series, histogram buckets without `le`, not cumulative, or disagreeing with _count.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType, samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (families.get(name)?.samples.length) throw new Error(`${where}: TYPE for ${name} after its samples`);
        if (seen.has(`TYPE ${name}`)) throw new Error(`${where}: second TYPE for ${name}`);
        seen.add(`TYPE ${name}`);
        family.type = rest as MetricType;
      } else {
        if (seen.has(`HELP ${name}`)) throw new Error(`${where}: second HELP for ${name}`);
        seen.add(`HELP ${name}`);
        family.help = unescape(rest, false, where);
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (!family) throw new Error(`${where}: sample ${sample.name} has no TYPE line before it`);
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`${where}: duplicate series ${id}`);
    seen.add(id);
    family.samples.push(sample);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? families.get(m[1]) : undefined;
  return base && (base.type === 'histogram' || base.type === 'summary') ? base : undefined;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`${where}: bad sample "${line}"`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!ln || !LABEL_NAME.test(ln[0])) throw new Error(`${where}: bad label name at column ${i + 1}`);
      i += ln[0].length;
      if (line.slice(i, i + 2) !== '="') throw new Error(`${where}: expected =" after label ${ln[0]}`);
      i += 2;
      let raw = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[i] === '\\') {
          raw += line.slice(i, i + 2);
          i += 2;
        } else raw += line[i++];
      }
      i++;
      if (Object.hasOwn(labels, ln[0])) throw new Error(`${where}: label ${ln[0]} given twice`);
      labels[ln[0]] = unescape(raw, true, where);
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } at column ${i + 1}`);
    }
    i++;
  }
  const rest = line.slice(i);
  const m = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!m) throw new Error(`${where}: expected " value [timestamp]" after the series, got "${rest}"`);
  return { name, labels, value: parseValue(m[1], where) };
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value "${text}"`);
  return Number(text);
}

function unescape(raw: string, quoteAllowed: boolean, where: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quoteAllowed) return '"';
    throw new Error(`${where}: bad escape \\${c}`);
  });
}

function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      entry.buckets.push([parseValue(le, f.name), s.value]);
    } else if (s.name === `${f.name}_count`) entry.count = s.value;
    else if (s.name === `${f.name}_sum`) entry.sum = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name} in a histogram`);
  }
  for (const [key, h] of series) {
    const sorted = [...h.buckets].sort((a, b) => a[0] - b[0]);
    const inf = sorted[sorted.length - 1];
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    if (h.count !== inf[1]) throw new Error(`${f.name}${key}: _count ${h.count} differs from the +Inf bucket ${inf[1]}`);
    if (h.sum === undefined) throw new Error(`${f.name}${key}: no _sum`);
  }
}

/** The value of the one sample named `name` whose labels include `labels`; throws if not exactly one. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = familyOf(name, families);
  const matches = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${matches.length}`);
  return matches[0].value;
}
