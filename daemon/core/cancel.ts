// A request's cancellation: the client went away, the deadline passed, or the daemon is shutting down.
// Node 20's AbortController costs about 5 µs to create and listen to, on every request; undici takes
// any EventEmitter with `aborted` and `reason` as a request's signal, so the gateway uses this one.
import { EventEmitter } from 'node:events';

export class Cancel extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  /** Marks the request cancelled and tells the listeners of 'abort', once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/**
 * A cancel that follows `parent` (aborted with the parent's reason) and can also be aborted alone:
 * one attempt of a hedged pair. `detach` stops the following once the attempt is over.
 */
export function childCancel(parent: Cancel): { signal: Cancel; detach(): void } {
  const signal = new Cancel();
  const follow = () => signal.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.once('abort', follow);
  return { signal, detach: () => parent.off('abort', follow) };
}

/** Either kind of signal, as upstream calls take it (probes use AbortController's). */
export type CancelSignal = Cancel | AbortSignal;
