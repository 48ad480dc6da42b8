// A well-formed ledger entry for tests, with any field overridden.
import type { LedgerEntry } from '../../shared/ledger';

export function sampleEntry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: 'req-1',
    time: '2025-01-15T10:00:00.000Z',
    requestedModel: 'chat',
    model: 'chat',
    servedModel: 'gpt-4o-mini',
    deployment: 'openai/gpt-4o-mini@us-east',
    provider: 'openai',
    attempts: 1,
    status: 200,
    ok: true,
    stream: false,
    promptTokens: 1000,
    completionTokens: 500,
    usageSource: 'upstream',
    costUsd: 0.00045,
    latencyMs: 812.3,
    ...over,
  };
}
