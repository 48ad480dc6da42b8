// The ledger line for a finished request, and writing it: awaited before the response's last byte,
// never thrown at the client, and announced on the event bus once written.
import type { LedgerEntry } from '../../shared/ledger';
import type { ChatBody } from '../core/chat';
import type { Deployment } from '../routing/catalog';
import { costUsd } from '../spend/cost';
import type { HttpError } from '../core/http-error';
import type { PipelineDeps } from './deps';
import type { CountedUsage } from './usage-fallback';

/** What the ledger needs to know about the request itself. */
export interface LedgerRequest {
  id: string;
  receivedAt: number; // performance.now() when the request arrived
  body: ChatBody;
  clientKeyId?: string;
  /** Who is asking, when the client named itself (x-shepherd-client; see core/caller.ts). */
  caller?: string;
}

export function entryFor(
  request: LedgerRequest,
  group: string | null,
  deployment: Deployment | null,
  attempts: number,
  status: number,
  counted: CountedUsage | undefined,
  endedAt: number,
  firstTokenAt: number | undefined,
): LedgerEntry {
  const usage = counted?.usage;
  const entry: LedgerEntry = {
    id: request.id,
    time: new Date().toISOString(),
    requestedModel: request.body.model,
    model: group,
    servedModel: deployment?.upstreamModel ?? null,
    deployment: deployment?.id ?? null,
    provider: deployment?.providerName ?? null,
    attempts,
    status,
    ok: status >= 200 && status < 300,
    stream: request.body.stream === true,
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    usageSource: counted ? (counted.estimated ? 'estimated' : 'upstream') : 'none',
    costUsd: usage && deployment ? costUsd(usage, deployment.price) : 0,
    latencyMs: round1(endedAt - request.receivedAt),
  };
  // Optional fields are assigned rather than spread in: this runs for every request, and V8 builds
  // objects from conditional spreads far more slowly. The optional fields follow latencyMs in the
  // line; replay's fast path (spend/ledger-parse.ts) knows this order and the earlier one.
  if (usage?.cachedTokens) entry.cachedTokens = usage.cachedTokens;
  if (usage?.reasoningTokens) entry.reasoningTokens = usage.reasoningTokens;
  if (firstTokenAt !== undefined) entry.ttftMs = round1(firstTokenAt - request.receivedAt);
  if (deployment?.sandbox) entry.sandbox = true;
  if (request.clientKeyId) entry.key = request.clientKeyId;
  if (request.caller) entry.client = request.caller;
  return entry;
}

/** A request refused before any attempt (unknown model, no usable deployment, budget) is still a ledger line. */
export async function recordRefusal(deps: PipelineDeps, request: LedgerRequest, group: string | null, error: HttpError): Promise<void> {
  await record(deps, { ...entryFor(request, group, null, 0, error.status, undefined, performance.now(), undefined), error: error.message });
}

/** The ledger line is awaited before the last byte; a failed write is logged, never thrown at the client. */
export async function record(deps: PipelineDeps, entry: LedgerEntry): Promise<void> {
  try {
    await deps.ledger.append(entry);
  } catch (err) {
    deps.log.error('could not write the ledger line', { request: entry.id, error: err instanceof Error ? err.message : String(err) });
  }
  // Budgets, metrics and the extension hear of it right after this turn of the event loop, once the
  // response is on its way: none of them needs to hold up its last byte. (In order: setImmediate is FIFO.)
  setImmediate(() => deps.events.emit('request.finished', entry));
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
