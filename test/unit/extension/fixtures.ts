// A daemon snapshot as the extension receives it, for the pure-logic tests.
import type { BudgetStatus } from '../../../shared/budget-status';
import type { LedgerEntry } from '../../../shared/ledger';
import type { DeploymentSnapshot, Snapshot } from '../../../shared/protocol';

export function deployment(id: string, group: string, extra: Partial<DeploymentSnapshot> = {}): DeploymentSnapshot {
  return { id, group, provider: id.split('/')[0], model: group, region: 'us-east', available: true, state: 'healthy', circuit: 'closed', p50Ms: 420, errorRate: 0, ...extra };
}

export function snapshot(extra: Partial<Snapshot> = {}): Snapshot {
  const days = ['2026-11-01', '2026-11-02', '2026-11-03'].map((date, i) => ({ date, requests: i + 1, errors: i === 2 ? 1 : 0, promptTokens: 100, completionTokens: 50, costUsd: (i + 1) * 0.5 }));
  return {
    version: '0.1.0',
    url: 'http://127.0.0.1:4210',
    sandbox: false,
    startedAt: '2026-11-03T08:00:00.000Z',
    providers: ['openai', 'anthropic'],
    groups: [
      { name: 'gpt-4.1', strategy: 'priority', down: false, price: { input: 2, output: 8 } },
      { name: 'claude', strategy: 'latency', down: false, price: null },
    ],
    deployments: [deployment('openai/gpt-4.1', 'gpt-4.1'), deployment('openrouter/gpt-4.1', 'gpt-4.1'), deployment('anthropic/claude', 'claude')],
    budgets: [],
    spend: {
      today: days[2],
      month: { requests: 6, errors: 1, promptTokens: 300, completionTokens: 150, costUsd: 3 },
      days,
      byGroup: [{ group: 'gpt-4.1', requests: 6, errors: 1, promptTokens: 300, completionTokens: 150, costUsd: 3 }],
    },
    recent: [],
    ...extra,
  };
}

export function budget(extra: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    name: 'monthly',
    scope: { kind: 'global' },
    period: 'monthly',
    limitUsd: 10,
    spentUsd: 3,
    remainingUsd: 7,
    projectedUsd: 30,
    usedRatio: 0.3,
    periodStart: '2026-11-01T00:00:00.000Z',
    resetsAt: '2026-12-01T00:00:00.000Z',
    state: 'ok',
    action: 'alert',
    thresholdsHit: [],
    ...extra,
  };
}

export function entry(extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: 'req-1',
    time: '2026-11-03T09:30:00.000Z',
    requestedModel: 'gpt-4.1',
    model: 'gpt-4.1',
    servedModel: 'gpt-4.1',
    deployment: 'openai/gpt-4.1',
    provider: 'openai',
    attempts: 1,
    status: 200,
    ok: true,
    stream: true,
    promptTokens: 10,
    completionTokens: 20,
    usageSource: 'upstream',
    costUsd: 0.25,
    latencyMs: 800,
    ...extra,
  };
}
