import assert from 'node:assert/strict';
import { StartError } from '../../daemon/lifecycle/start-error';
import { Steps } from '../../daemon/lifecycle/steps';

describe('start-up steps', () => {
  it('undoes the steps before a failing one, newest first, and names the step that failed', async () => {
    const done: string[] = [];
    const steps = new Steps(() => undefined);
    await steps.run('open a', () => 'a', (v) => done.push(`close ${v}`));
    steps.defer('remove b', () => done.push('remove b'));
    await steps.run('open c', () => 'c', (v) => done.push(`close ${v}`));
    await assert.rejects(
      steps.run('open d', () => Promise.reject(new Error('EROFS: read-only file system')), () => done.push('close d')),
      (err: unknown) => err instanceof StartError && err.message === 'could not open d: EROFS: read-only file system' && err.exitCode === 1,
    );
    assert.deepEqual(done, ['close c', 'remove b', 'close a']);
  });

  it('stops by running every undo once, even when one of them fails', async () => {
    const done: string[] = [];
    const failures: string[] = [];
    const steps = new Steps((step) => failures.push(step));
    await steps.run('open a', () => 'a', () => done.push('a'));
    await steps.run('open b', () => 'b', () => Promise.reject(new Error('stuck')));
    await steps.run('open c', () => 'c', () => done.push('c'));
    await Promise.all([steps.unwind(), steps.unwind()]);
    await steps.unwind();
    assert.deepEqual(done, ['c', 'a']);
    assert.deepEqual(failures, ['open b']);
  });

  it('keeps the exit code of a StartError thrown by a step', async () => {
    const steps = new Steps(() => undefined);
    await assert.rejects(steps.run('lock', () => Promise.reject(new StartError('held', 3))), (err: unknown) => err instanceof StartError && err.exitCode === 3);
  });
});
