// The team spend and the member grouping as a local daemon (no team section) answers them: the member
// grouping works everywhere, while ?scope=team and --team say which config field they need.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';
import type { Sandbox } from '../../daemon/sandbox/server';

const run = promisify(execFile);
const daemonJs = join(__dirname, '..', '..', 'dist', 'daemon.js');

describe('team spend in local mode', function () {
  this.timeout(20_000);
  let sandboxes: Sandbox[];
  let h: Harness;
  before(async () => {
    sandboxes = await startSandboxes(1);
    h = await startHarness(configFor(sandboxes), { sandboxes });
    await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
  });
  after(async () => {
    await h?.close();
  });

  it('groups spend by member (no member in local mode) and refuses scope=team naming team.postgres', async () => {
    const byMember = (await (await fetch(`${h.daemon.url}/v1/shepherd/spend?groupBy=member`)).json()) as { rows: { key: string; requests: number }[] };
    assert.deepEqual(byMember.rows.map((r) => [r.key, r.requests]), [['(no member)', 1]]);
    const team = await fetch(`${h.daemon.url}/v1/shepherd/spend?scope=team`);
    assert.equal(team.status, 400);
    assert.match(((await team.json()) as { error: { message: string } }).error.message, /scope=team needs the team ledger: set team\.postgres in the config/);
    const bad = await fetch(`${h.daemon.url}/v1/shepherd/spend?scope=everyone`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /scope must be local or team, not "everyone"/);
    const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as Record<string, unknown>;
    assert.equal('teamLedger' in status, false, 'local mode reports no team ledger');
  });

  it('shepherd spend --team and export --team say the config has no team section (exit 1)', async () => {
    for (const args of [['spend', '--team'], ['export', '--team']]) {
      const r = await run(process.execPath, [daemonJs, ...args, '--data-dir', h.dir, '--config', h.configPath]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /no "team" section \(team mode is off; see docs\/CONFIG\.md#team-mode\)/);
    }
  });
});
