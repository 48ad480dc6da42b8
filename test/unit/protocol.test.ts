// The control channel's contract: what each side accepts, and what an invalid frame is told.
import assert from 'node:assert/strict';
import { DaemonStateSchema, parseClientMessage, parseServerMessage, PROTOCOL_VERSION } from '../../shared/protocol';
import { SpendHistory } from '../../daemon/spend/history';
import { entry, snapshot } from './extension/fixtures';

describe('control protocol', () => {
  it('accepts every client message the extension sends', () => {
    const messages = [
      { type: 'hello', protocol: PROTOCOL_VERSION, token: 'a'.repeat(64), client: 'vscode', version: '0.1.0' },
      { type: 'snapshot.get' },
      { type: 'chat.start', id: 'c1', model: 'auto', messages: [{ role: 'user', content: 'hi' }] },
      { type: 'chat.cancel', id: 'c1' },
      { type: 'key.set', id: 'k', provider: 'openai', key: 'sk-x' },
      { type: 'key.set', id: 'k', provider: 'openai', key: null },
      { type: 'budget.set', id: 'b', budget: 'monthly', limitUsd: 50 },
      { type: 'strategy.set', id: 's', strategy: 'latency' },
      { type: 'config.reload', id: 'r' },
    ];
    for (const m of messages) assert.ok(parseClientMessage(JSON.stringify(m)).ok, m.type);
  });

  it('names the bad field and never echoes the frame (it may hold a key)', () => {
    const bad = parseClientMessage(JSON.stringify({ type: 'key.set', id: 'k', provider: 'openai', key: 42, extra: 'sk-secret-value' }));
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /^invalid key: /);
    const unknown = parseClientMessage(JSON.stringify({ type: 'shutdown', token: 'sk-secret-value' }));
    assert.ok(!unknown.ok && !unknown.error.includes('sk-secret-value'));
    assert.deepEqual(parseClientMessage('{not json'), { ok: false, error: 'not JSON' });
    assert.equal(parseClientMessage(JSON.stringify({ type: 'budget.set', id: 'b', budget: 'm', limitUsd: -1 })).ok, false);
  });

  it('lets the extension validate snapshots, tolerating deployments without health fields', () => {
    const s = snapshot();
    s.deployments = [{ id: 'p/m', group: 'g', provider: 'p', model: 'm', available: false, unavailableReason: 'no key', state: 'unknown' }];
    assert.ok(parseServerMessage(JSON.stringify({ type: 'snapshot', snapshot: s })).ok);
    assert.equal(parseServerMessage(JSON.stringify({ type: 'snapshot', snapshot: { ...s, spend: undefined } })).ok, false);
  });

  it('requires a long control token in the state file', () => {
    const state = { pid: 1, version: '0.1.0', host: '127.0.0.1', port: 4210, url: 'http://127.0.0.1:4210', sandbox: true, startedAt: 'x', protocol: 1 };
    assert.equal(DaemonStateSchema.safeParse({ ...state, controlToken: 'short' }).success, false);
    assert.equal(DaemonStateSchema.safeParse({ ...state, controlToken: 'f'.repeat(64) }).success, true);
  });
});

describe('spend history for the snapshot', () => {
  it('sums this month by day and by group, and keeps the latest requests', () => {
    const history = new SpendHistory(() => new Date('2026-11-03T12:00:00Z'));
    history.add(entry({ id: 'old', time: '2026-10-31T23:59:59Z', costUsd: 5 }));
    history.add(entry({ id: 'a', time: '2026-11-01T10:00:00Z', costUsd: 0.1 }));
    history.add(entry({ id: 'b', time: '2026-11-03T10:00:00Z', costUsd: 0.2, model: 'claude' }));
    history.add(entry({ id: 'c', time: '2026-11-03T11:00:00Z', costUsd: 0.1, ok: false }));
    const s = history.snapshot();
    assert.deepEqual(s.days.map((d) => d.costUsd), [0.1, 0, 0.3], 'exact sums, every day of the month so far');
    assert.equal(s.today.requests, 2);
    assert.equal(s.today.errors, 1);
    assert.equal(s.month.costUsd, 0.4, 'October is not this month');
    assert.deepEqual(s.byGroup.map((g) => [g.group, g.costUsd]), [['claude', 0.2], ['gpt-4.1', 0.2]]);
    assert.equal(history.find('b')?.model, 'claude');
    assert.deepEqual(history.recent().map((e) => e.id), ['old', 'a', 'b', 'c']);
  });
});
