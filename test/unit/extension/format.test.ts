// How numbers read in the status bar, tooltips and the spend view.
import assert from 'node:assert/strict';
import { formatMoney, formatMs, formatPercent, formatTokens } from '../../../extension/format';

describe('formatting', () => {
  it('keeps small costs distinguishable from zero', () => {
    assert.equal(formatMoney(0), '$0.00');
    assert.equal(formatMoney(12.5), '$12.50');
    assert.equal(formatMoney(0.042), '$0.04');
    assert.equal(formatMoney(0.0042), '$0.0042');
    assert.equal(formatMoney(0.00012), '$0.0001');
  });

  it('converts to the display currency and survives an unknown code', () => {
    assert.equal(formatMoney(2, { code: 'EUR', rate: 0.9 }), '€1.80');
    assert.equal(formatMoney(2, { code: 'XYZ1', rate: 1 }), '2.00 XYZ1');
  });

  it('formats latencies, ratios and token counts, with a dash for unknown', () => {
    assert.equal(formatMs(850), '850 ms');
    assert.equal(formatMs(1234), '1.2 s');
    assert.equal(formatMs(null), '—');
    assert.equal(formatPercent(0.125), '13%');
    assert.equal(formatPercent(0.042), '4.2%');
    assert.equal(formatPercent(undefined), '—');
    assert.equal(formatTokens(950), '950');
    assert.equal(formatTokens(12_345), '12.3k');
  });
});
