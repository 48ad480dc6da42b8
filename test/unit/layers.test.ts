// The layer rules of eslint.config.mjs bite: a forbidden import in a file of that folder is reported.
// (`npm run lint` passing only shows the code keeps them; a resolver that silently resolved nothing
// would pass too.) The files are linted as text under a real folder's name; nothing is written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

/** The rules that fire for `code` as if it were the file at `path`. */
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layer rules (eslint.config.mjs)', function () {
  this.timeout(30_000);

  const forbidden: [string, string, RegExp][] = [
    ['daemon/routing/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n", /no-nodejs-modules/],
    ['daemon/routing/x.ts', "import type { Dispatcher } from 'undici';\nexport type D = Dispatcher;\n", /daemon\/routing does no I\/O/],
    ['daemon/formats/x.ts', "import type { PipelineDeps } from '../pipeline/deps';\nexport type D = PipelineDeps;\n", /daemon\/formats may import only/],
    ['daemon/spend/x.ts', "import { runChat } from '../pipeline/chat';\nvoid runChat;\n", /daemon\/spend may import only/],
    ['daemon/http/x.ts', "import type { ControlChannel } from '../control/channel';\nexport type C = ControlChannel;\n", /daemon\/http may import only/],
    ['daemon/control/x.ts', "import type { GatewayDeps } from '../http/server';\nexport type G = GatewayDeps;\n", /only guard\.ts/],
    ['extension/x.ts', "import { VERSION } from '../daemon/core/version';\nvoid VERSION;\n", /The extension never imports the daemon/],
    ['shared/x.ts', "import { join } from 'node:path';\nvoid join;\n", /shared\/ may import only zod/],
  ];
  for (const [path, code, expected] of forbidden) {
    it(`reports ${code.split('\n')[0]} in ${path}`, async () => {
      const found = await problems(path, code);
      assert.ok(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join('\n')}`);
    });
  }

  it('lets each layer import what the table allows', async () => {
    assert.deepEqual(await problems('daemon/control/x.ts', "import { checkHost } from '../http/guard';\nvoid checkHost;\n"), []);
    assert.deepEqual(await problems('daemon/pipeline/x.ts', "import { planRoute } from '../routing/plan';\nvoid planRoute;\n"), []);
    assert.deepEqual(await problems('shared/x.ts', "import { z } from 'zod';\nimport { isRecord } from './is-record';\nvoid z;\nvoid isRecord;\n"), []);
  });
});
