// Validation of ledger lines, shared by the ledger's replay and its checkpoints (which keep a month's
// latest entries). LedgerEntrySchema (shared/ledger.ts) is the contract; this hand-written check accepts
// exactly what it accepts (a unit test compares the two field by field), because replaying a million
// lines through zod costs more than the whole start-up budget. Unknown fields are kept, not rejected,
// so a ledger written by a newer daemon still replays.

/**
 * Why `value` is not a valid LedgerEntry (naming the field), or undefined when it is one. Like the
 * schema's .catch, a malformed `client` label is dropped from `value` rather than failing the line.
 */
// Plain property reads on purpose: a table of field names read with e[field] is several times slower.
export function ledgerEntryProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (typeof e.id !== 'string') return wrong('id', e.id, STRING);
  if (typeof e.time !== 'string') return wrong('time', e.time, STRING);
  if (typeof e.requestedModel !== 'string') return wrong('requestedModel', e.requestedModel, STRING);
  if (e.model !== null && typeof e.model !== 'string') return wrong('model', e.model, STRING_OR_NULL);
  if (e.servedModel !== null && typeof e.servedModel !== 'string') return wrong('servedModel', e.servedModel, STRING_OR_NULL);
  if (e.deployment !== null && typeof e.deployment !== 'string') return wrong('deployment', e.deployment, STRING_OR_NULL);
  if (e.provider !== null && typeof e.provider !== 'string') return wrong('provider', e.provider, STRING_OR_NULL);
  if (!isCount(e.attempts)) return wrong('attempts', e.attempts, COUNT);
  if (!Number.isSafeInteger(e.status)) return wrong('status', e.status, 'an integer');
  if (typeof e.ok !== 'boolean') return wrong('ok', e.ok, BOOLEAN);
  if (e.error !== undefined && typeof e.error !== 'string') return wrong('error', e.error, STRING);
  if (typeof e.stream !== 'boolean') return wrong('stream', e.stream, BOOLEAN);
  if (!isCount(e.promptTokens)) return wrong('promptTokens', e.promptTokens, COUNT);
  if (!isCount(e.completionTokens)) return wrong('completionTokens', e.completionTokens, COUNT);
  if (e.cachedTokens !== undefined && !isCount(e.cachedTokens)) return wrong('cachedTokens', e.cachedTokens, COUNT);
  if (e.cacheWriteTokens !== undefined && !isCount(e.cacheWriteTokens)) return wrong('cacheWriteTokens', e.cacheWriteTokens, COUNT);
  if (e.reasoningTokens !== undefined && !isCount(e.reasoningTokens)) return wrong('reasoningTokens', e.reasoningTokens, COUNT);
  if (e.usageSource !== 'upstream' && e.usageSource !== 'estimated' && e.usageSource !== 'none') {
    return wrong('usageSource', e.usageSource, '"upstream", "estimated" or "none"');
  }
  if (!isAmount(e.costUsd)) return wrong('costUsd', e.costUsd, AMOUNT);
  if (!isAmount(e.latencyMs)) return wrong('latencyMs', e.latencyMs, AMOUNT);
  if (e.ttftMs !== undefined && !isAmount(e.ttftMs)) return wrong('ttftMs', e.ttftMs, AMOUNT);
  if (e.sandbox !== undefined && typeof e.sandbox !== 'boolean') return wrong('sandbox', e.sandbox, BOOLEAN);
  if (e.key !== undefined && typeof e.key !== 'string') return wrong('key', e.key, STRING);
  if (e.parent !== undefined && typeof e.parent !== 'string') return wrong('parent', e.parent, STRING);
  if (e.role !== undefined && e.role !== 'hedge' && e.role !== 'cascade') return wrong('role', e.role, '"hedge" or "cascade"');
  if (e.endpoint !== undefined && !isEndpoint(e.endpoint)) return wrong('endpoint', e.endpoint, 'one of "chat", "responses", "embeddings", "completions", "messages"');
  if (e.member !== undefined && typeof e.member !== 'string') return wrong('member', e.member, STRING);
  if (e.cascade !== undefined && typeof e.cascade !== 'string') return wrong('cascade', e.cascade, STRING);
  if (e.client !== undefined && typeof e.client !== 'string') delete e.client;
  return undefined;
}

const STRING = 'a string';
const STRING_OR_NULL = 'a string or null';
const BOOLEAN = 'a boolean';
const COUNT = 'a non-negative integer';
const AMOUNT = 'a non-negative number';

function isEndpoint(v: unknown): boolean {
  return v === 'chat' || v === 'responses' || v === 'embeddings' || v === 'completions' || v === 'messages';
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isAmount(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function wrong(field: string, v: unknown, expected: string): string {
  return v === undefined ? `${field} is missing` : `${field} must be ${expected}`;
}

