import assert from 'node:assert/strict';
import { createLogger, parseLevel } from '../../daemon/core/log';

describe('logger', () => {
  it('drops lines below its level and writes text with key=value fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.warn('upstream attempt failed', { deployment: 'up0/m', status: 503, error: 'two words' });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\S+Z WARN  upstream attempt failed deployment=up0\/m status=503 error="two words"\n$/);
  });

  it('writes one JSON object per line when asked (SHEPHERD_LOG_FORMAT=json)', () => {
    const lines: string[] = [];
    createLogger({ json: true, write: (l) => lines.push(l) }).error('boom', { request: 'r1' });
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(parsed.level, 'error');
    assert.equal(parsed.msg, 'boom');
    assert.equal(parsed.request, 'r1');
  });

  it('accepts only known level names', () => {
    assert.equal(parseLevel('debug'), 'debug');
    assert.equal(parseLevel('loud'), undefined);
    assert.equal(parseLevel(undefined), undefined);
  });
});
