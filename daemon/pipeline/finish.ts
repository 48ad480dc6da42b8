// The one way a request ends, on every path (answered, failed, refused, cancelled, timed out): its
// ledger line is written, then its response ends. The line is awaited before the last byte, so a
// client that has its answer can count on the ledger having it too; a failed write is logged, never
// thrown at the client. Budgets, metrics and the extension hear of it once the response is on its way.
import type { LedgerEntry } from '../../shared/ledger';
import { sendError, type HttpError } from '../core/http-error';
import type { PipelineDeps } from './deps';
import type { Arrival, Exchange } from './exchange';
import { entryFor, type LineFacts } from './ledger-line';

export type Ending =
  /** A whole answer, sent with these headers. */
  | { kind: 'answer'; body: string | Uint8Array; headers: Record<string, string> }
  /** A stream whose headers and earlier frames are out: these last frames close it. */
  | { kind: 'stream'; tail: string }
  /** Nothing reached the client yet: an error response in the client's format. */
  | { kind: 'error'; error: HttpError; headers: Record<string, string> };

export async function finish(deps: PipelineDeps, id: string, arrival: Arrival, facts: LineFacts, ending: Ending): Promise<void> {
  const entry = entryFor(id, arrival, facts);
  // Cache affinity: the next request of this conversation goes where this one was answered.
  if (entry.ok && arrival.affinityKey !== undefined && facts.deployment && deps.affinity) {
    const cfg = arrival.state.config.routing.cacheAffinity;
    deps.affinity.remember(arrival.affinityKey, facts.deployment.id, Date.now(), cfg.maxConversations);
  }
  await record(deps, entry);
  const res = arrival.res;
  switch (ending.kind) {
    case 'answer':
      ending.headers['content-type'] = 'application/json';
      ending.headers['content-length'] = String(Buffer.byteLength(ending.body));
      // Node joins the headers to a string body in one write, but writes them apart from bytes (a
      // passthrough's answer): corked, the two leave in one syscall, as they do for a string.
      res.cork();
      res.writeHead(200, ending.headers);
      res.end(ending.body);
      res.uncork();
      return;
    case 'stream':
      if (!res.destroyed) res.end(ending.tail);
      return;
    case 'error':
      if (res.destroyed) return;
      sendError(res, ending.error, ending.headers, arrival.client.errorBody(ending.error));
  }
}

/**
 * An extra upstream call made for request `x` (the losing attempt of a hedged pair): a ledger line of
 * its own, with `parent` naming the request, so budgets and spend count its cost. No response.
 */
export async function recordExtra(deps: PipelineDeps, id: string, x: Exchange, facts: LineFacts): Promise<void> {
  await record(deps, entryFor(id, x.arrival, facts));
}

async function record(deps: PipelineDeps, entry: LedgerEntry): Promise<void> {
  try {
    await deps.ledger.append(entry);
  } catch (err) {
    deps.log.error('could not write the ledger line', { request: entry.id, error: err instanceof Error ? err.message : String(err) });
  }
  // In order: setImmediate is FIFO.
  setImmediate(() => deps.events.emit('request.finished', entry));
}
