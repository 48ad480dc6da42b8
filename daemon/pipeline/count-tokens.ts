// POST /v1/messages/count_tokens: how many input tokens a Messages request holds. When the group's
// first deployment in the plan speaks Anthropic, the request goes there unchanged apart from `model`
// (Anthropic counts with the model's own tokenizer, free of charge) and its answer comes back as is.
// Otherwise, or when that upstream cannot be reached, Shepherd counts locally (o200k, like its other
// estimates) and says so: `x-shepherd-estimate: true`.
import { Cancel } from '../core/cancel';
import type { ChatBody } from '../core/chat';
import type { NativeRequest } from '../core/native';
import type { ConfigSnapshot } from '../config/snapshot';
import { adapterFor } from '../formats';
import { upstreamTarget } from '../routing/catalog';
import { planRoute } from '../routing/plan';
import { estimateUsage } from '../spend/estimate';
import { planContext } from './chat';
import type { PipelineDeps } from './deps';
import { headerSafe } from './relay';

export interface TokenCount {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const TIMEOUT_MS = 10_000;

export async function countTokens(deps: PipelineDeps, state: ConfigSnapshot, body: ChatBody, native: NativeRequest): Promise<TokenCount | { error: 'unknown_model'; message: string }> {
  const planned = planRoute(planContext(deps, state, deps.cursors.clone()), body.model, body);
  if (!planned.ok && planned.reason === 'unknown_model') return { error: 'unknown_model', message: planned.message };
  const first = planned.ok ? planned.plan.attempts[0] : undefined;
  const resolved: Record<string, string> = planned.ok ? { 'x-shepherd-model': planned.plan.group.name, 'x-shepherd-resolved': headerSafe(planned.plan.resolved) } : {};
  const passthrough = first ? adapterFor(first.deployment.provider.type).passthrough : undefined;
  if (first && passthrough?.format === native.format) {
    const target = upstreamTarget(first.deployment);
    const request = passthrough.request(target, { ...native, body: withoutStream(native.body) }, '/messages/count_tokens');
    const cancel = new Cancel();
    const timer = setTimeout(() => cancel.abort(new Error('count_tokens timed out')), TIMEOUT_MS);
    try {
      const res = await deps.upstreams.send(target, request, { connectMs: TIMEOUT_MS, firstByteMs: TIMEOUT_MS, idleMs: TIMEOUT_MS }, cancel);
      const text = await res.body.text();
      // A 5xx or a missing endpoint (a relay without count_tokens) falls back to the local count.
      if (res.status < 500 && res.status !== 404) {
        return { status: res.status, body: text, headers: { ...resolved, 'x-shepherd-deployment': first.deployment.id } };
      }
    } catch (err) {
      deps.log.debug('count_tokens upstream failed; counting locally', { deployment: first.deployment.id, error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
  const { promptTokens } = estimateUsage(body, '');
  return { status: 200, body: JSON.stringify({ input_tokens: promptTokens }), headers: { ...resolved, 'x-shepherd-estimate': 'true' } };
}

function withoutStream(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  delete out.stream;
  delete out.max_tokens; // count_tokens takes neither
  return out;
}
