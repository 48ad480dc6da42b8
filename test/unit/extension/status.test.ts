// What the two status bar items say and which colour they take.
import assert from 'node:assert/strict';
import { INITIAL, reduce, withConnection } from '../../../extension/model';
import { healthItem, spendItem } from '../../../extension/status';
import { USD } from '../../../extension/format';
import { budget, deployment, snapshot } from './fixtures';

const view = (s = snapshot()) => withConnection(reduce(INITIAL, { type: 'snapshot', snapshot: s }), 'connected');

describe('status bar: health', () => {
  it('counts healthy of usable deployments, plain when all are well', () => {
    const item = healthItem(view());
    assert.equal(item.text, '$(pulse) 3/3');
    assert.equal(item.severity, 'ok');
    assert.match(item.tooltip, /\| openai\/gpt-4\.1 \| healthy \| 420 ms \| 0% \| closed \|/);
  });

  it('warns when a deployment is degraded or its circuit is open', () => {
    const s = snapshot();
    s.deployments[1] = deployment('openrouter/gpt-4.1', 'gpt-4.1', { circuit: 'open', state: 'unhealthy' });
    const item = healthItem(view(s));
    assert.equal(item.text, '$(warning) 2/3');
    assert.equal(item.severity, 'warning');
  });

  it('turns red and names the group when a whole group is down', () => {
    const s = snapshot();
    s.groups[1].down = true;
    s.deployments[2] = deployment('anthropic/claude', 'claude', { circuit: 'open', state: 'unhealthy' });
    const item = healthItem(view(s));
    assert.equal(item.severity, 'error');
    assert.match(item.tooltip, /Down: claude/);
  });

  it('says plainly when a provider rejected a deployment\'s key, and follows the change event', () => {
    const s = snapshot();
    s.deployments[0] = deployment('openai/gpt-4.1', 'gpt-4.1', { state: 'unhealthy', keyRejected: 'HTTP 401: Incorrect API key provided' });
    const item = healthItem(view(s));
    assert.equal(item.severity, 'warning');
    assert.match(item.tooltip, /\| openai\/gpt-4\.1 \| key rejected: HTTP 401: Incorrect API key provided \|/);
    const fixed = reduce(view(s), {
      type: 'deployment.state',
      change: { deployment: 'openai/gpt-4.1', group: 'gpt-4.1', from: 'unhealthy', to: 'healthy', circuit: 'closed', reason: 'requests succeeding', at: '', keyRejected: null },
    });
    assert.match(healthItem(fixed).tooltip, /\| openai\/gpt-4\.1 \| healthy \|/);
  });

  it('leaves out deployments without a key from the count, but lists why in the tooltip', () => {
    const s = snapshot();
    s.deployments[2] = deployment('anthropic/claude', 'claude', { available: false, unavailableReason: 'ANTHROPIC_API_KEY is not set' });
    const item = healthItem(view(s));
    assert.equal(item.text, '$(pulse) 2/2');
    assert.match(item.tooltip, /unavailable: ANTHROPIC_API_KEY is not set/);
  });

  it('offers to start when this window has not asked for the daemon yet', () => {
    const idle = healthItem(INITIAL);
    assert.equal(idle.text, '$(circle-outline) Shepherd');
    assert.equal(idle.severity, 'ok');
    assert.match(idle.tooltip, /Click to find or start/);
  });

  it('says the daemon stopped, in red, and marks the sandbox', () => {
    const stopped = healthItem(withConnection(INITIAL, 'stopped'));
    assert.equal(stopped.text, '$(debug-disconnect) Shepherd: daemon stopped');
    assert.equal(stopped.severity, 'error');
    assert.match(healthItem(view(snapshot({ sandbox: true }))).text, /\(sandbox\)$/);
  });
});

describe('status bar: spend', () => {
  it('shows month-to-date spend alone when there is no budget', () => {
    const item = spendItem(view(), USD)!;
    assert.equal(item.text, '$(credit-card) $3.00');
    assert.equal(item.severity, 'ok');
    assert.match(item.tooltip, /No monthly budget set/);
  });

  it('shows sandbox spend beside real spend, marked, so a sandbox user sees it move', () => {
    const s = snapshot({ sandbox: true });
    const zero = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
    s.spend = { ...s.spend, today: zero, month: zero, sandbox: { today: { ...zero, costUsd: 0.02, requests: 2 }, month: { ...zero, costUsd: 0.02, requests: 2 }, byGroup: [] } };
    const item = spendItem(view(s), USD)!;
    assert.equal(item.text, '$(credit-card) $0.00 (sandbox $0.02)');
    assert.match(item.accessibility, /sandbox \$0\.02 \(simulated, not counted\)/);
    assert.equal(item.severity, 'ok');
  });

  it('compares with the global monthly budget and turns warning, then error, at the thresholds', () => {
    const at = (usedRatio: number, state: 'ok' | 'warning' | 'exhausted' = 'ok') => spendItem(view(snapshot({ budgets: [budget({ usedRatio, state, spentUsd: usedRatio * 10 })] })), USD)!;
    assert.equal(at(0.3).text, '$(credit-card) $3.00 / $10.00');
    assert.equal(at(0.3).severity, 'ok');
    assert.equal(at(0.8).severity, 'warning');
    assert.equal(at(0.5, 'warning').severity, 'warning');
    assert.equal(at(1.02).severity, 'error');
    assert.match(at(0.3).tooltip, /projected \$30\.00 by month end/);
  });

  it('uses the display currency', () => {
    assert.equal(spendItem(view(), { code: 'EUR', rate: 0.5 })!.text, '$(credit-card) €1.50');
  });

  it('shows nothing until connected', () => {
    assert.equal(spendItem(INITIAL, USD), undefined);
  });

  it('warns while the ledger cannot be written, with how many lines wait, and clears when a snapshot says it is ok again', () => {
    const failing = { state: 'failing' as const, since: '2025-01-15T10:00:00.000Z', waiting: 42, lastError: 'ENOSPC: no space left on device, write' };
    const item = spendItem(view(snapshot({ ledger: failing })), USD)!;
    assert.equal(item.text, '$(credit-card) $3.00 $(warning) ledger: 42 waiting');
    assert.equal(item.severity, 'warning');
    assert.match(item.tooltip, /The ledger cannot be written.*ENOSPC.*42 line\(s\) wait/);
    assert.match(item.accessibility, /ledger cannot be written, 42 lines waiting/);
    const exhausted = spendItem(view(snapshot({ ledger: failing, budgets: [budget({ usedRatio: 1.02, state: 'exhausted', spentUsd: 10.2 })] })), USD)!;
    assert.equal(exhausted.severity, 'error', 'an exhausted budget stays an error');
    const again = withConnection(reduce(view(snapshot({ ledger: failing })), { type: 'snapshot', snapshot: snapshot({ ledger: { state: 'ok', waiting: 0 } }) }), 'connected');
    assert.equal(spendItem(again, USD)!.text, '$(credit-card) $3.00');
    assert.equal(spendItem(again, USD)!.severity, 'ok');
  });

  it('says "team degraded" while Redis cannot be reached, and nothing once the team state is ok again', () => {
    const team = { name: 'web', member: 'ana', state: 'degraded' as const, since: '2025-01-15T10:00:00.000Z', reason: 'connection closed' };
    const item = spendItem(view(snapshot({ team })), USD)!;
    assert.equal(item.text, '$(credit-card) $3.00 $(warning) team degraded');
    assert.equal(item.severity, 'warning');
    assert.match(item.tooltip, /Team state degraded.*connection closed.*local state/);
    assert.match(item.accessibility, /team state degraded/);
    const ok = spendItem(view(snapshot({ team: { ...team, state: 'ok' } })), USD)!;
    assert.equal(ok.text, '$(credit-card) $3.00');
    assert.equal(ok.severity, 'ok');
  });
});
