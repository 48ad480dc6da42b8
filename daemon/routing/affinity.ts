// Cache affinity: consecutive requests of one conversation go to the deployment that served the last
// one, while it is eligible. Round robin, least connections or latency would otherwise scatter a
// conversation over deployments and providers, and each move loses its prompt cache (a cache lives
// with one provider account, often one region). Pure: the key is a hash of what the request says, the
// table takes the clock as an argument, and the plan only reads the deployment the pipeline looked up.
import { isRecord } from '../../shared/is-record';
import type { ChatBody } from '../core/chat';

/**
 * A conversation's key, or undefined when the request names none and has nothing to hash.
 * In order: the client's `prompt_cache_key` (OpenAI chat and Responses); for an Anthropic body, the
 * prompt up to its last `cache_control` breakpoint (tools, system, messages: what the cache holds);
 * otherwise the system prompt and the first user message, which stay the same as a conversation grows.
 * The model name is part of the key, so one prompt sent to two groups is two conversations.
 */
export function cacheAffinityKey(body: ChatBody, native?: Record<string, unknown>): string | undefined {
  try {
    return keyOf(body, native);
  } catch {
    // A body too deep to serialise (RangeError): no affinity; the adapters refuse it with a 400 later.
    return undefined;
  }
}

function keyOf(body: ChatBody, native: Record<string, unknown> | undefined): string | undefined {
  const explicit = native?.prompt_cache_key ?? body.prompt_cache_key;
  if (typeof explicit === 'string' && explicit !== '') return `k:${body.model}:${explicit}`;
  const source = native ?? body;
  // A short prompt is cached by no provider: nothing to keep, and identical short prompts from many
  // clients should still spread over the deployments.
  if (!jsonAtLeast([source.tools, source.system, source.messages], MIN_CACHEABLE_CHARS)) return undefined;
  const prefix = (native && breakpointPrefix(native)) ?? breakpointPrefix(body) ?? openingOf(native ?? body);
  return prefix === undefined ? undefined : `h:${body.model}:${hash(prefix)}`;
}

/**
 * About 1,024 tokens at four characters a token: the shortest prompt Anthropic (1,024 tokens for Sonnet
 * and Opus, 2,048 for Haiku) and OpenAI (1,024) cache. Without an explicit prompt_cache_key, shorter
 * requests get no affinity.
 */
export const MIN_CACHEABLE_CHARS = 4096;

/**
 * Whether `value` serialises to at least `min` characters, without serialising an agent's whole prompt
 * to find out: a walk adds up a lower bound of its JSON length (each string at least its length and its
 * quotes) and stops once that reaches `min`; only a value that stays below is serialised, and it is small.
 */
export function jsonAtLeast(value: unknown, min: number): boolean {
  let bound = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && bound < min) {
    const v = stack.pop();
    if (typeof v === 'string') bound += v.length + 2;
    else if (Array.isArray(v)) {
      bound += 2;
      for (const x of v) stack.push(x);
    } else if (isRecord(v)) {
      bound += 2;
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function') continue; // left out of JSON
        bound += k.length + 3;
        stack.push(x);
      }
    } else bound += 1;
  }
  return bound >= min || (JSON.stringify(value)?.length ?? 0) >= min;
}

/** Tools, system and messages up to the last block marked with cache_control, as JSON; undefined without one. */
function breakpointPrefix(body: Record<string, unknown>): string | undefined {
  const parts: unknown[] = [];
  let last = -1;
  const visit = (value: unknown) => {
    parts.push(value);
    if (hasBreakpoint(value)) last = parts.length;
  };
  for (const tool of array(body.tools)) visit(tool);
  if (Array.isArray(body.system)) for (const block of body.system) visit(block);
  else if (body.system !== undefined) visit(body.system);
  for (const message of array(body.messages)) visit(message);
  return last === -1 ? undefined : JSON.stringify(parts.slice(0, last));
}

function hasBreakpoint(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (isRecord(value.cache_control)) return true;
  return Array.isArray(value.content) && value.content.some((part) => isRecord(part) && isRecord(part.cache_control));
}

/** The system prompt (top-level or system/developer messages) and the first user message, as JSON. */
function openingOf(body: Record<string, unknown>): string | undefined {
  const messages = array(body.messages);
  const system = [body.system, ...messages.filter((m) => isRecord(m) && (m.role === 'system' || m.role === 'developer'))].filter((s) => s !== undefined);
  const firstUser = messages.find((m) => isRecord(m) && m.role === 'user');
  if (firstUser === undefined) return undefined;
  return JSON.stringify([system, firstUser]);
}

function array(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A 53-bit string hash (cyrb53): routing may not use node:crypto, and a key only has to spread well. */
export function hash(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/**
 * Conversation key -> the deployment that served it last, bounded (least recently used goes first) and
 * forgetting a conversation idle longer than the TTL (Anthropic's default cache lives 5 minutes).
 * Held by the daemon across requests; the clock is passed in.
 */
export class AffinityTable {
  /** Map order is the LRU order: a hit is deleted and set again, the first key is the oldest. */
  private readonly entries = new Map<string, { deployment: string; at: number }>();

  get(key: string, now: number, ttlMs: number): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at > ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.deployment;
  }

  remember(key: string, deployment: string, now: number, max: number): void {
    this.entries.delete(key);
    this.entries.set(key, { deployment, at: now });
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

export const AFFINITY_REASON = 'cache affinity: served this conversation last';
