// Who may talk to the daemon. It listens on loopback, but a web page in the user's browser can still
// reach loopback: a Host check defeats DNS rebinding, an Origin check refuses other sites, and an
// optional local API key covers everything else.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServerConfig } from '../../shared/config';
import { HttpError } from '../core/http-error';

export function checkHost(req: IncomingMessage, server: ServerConfig): void {
  const host = req.headers.host;
  if (host === undefined) return; // HTTP/1.0 without Host: no name to rebind
  const name = hostName(host);
  if (isLoopbackName(name) || server.allowedHosts.includes(name) || (name === server.host && !isWildcard(name))) return;
  throw new HttpError(
    403,
    `Host "${name}" is not a loopback name; add it to server.allowedHosts if this is intended`,
    'permission_error',
    'host_not_allowed',
  );
}

/** Null when the request carries no Origin (SDKs, curl); the origin to echo back when allowed. */
export function checkOrigin(req: IncomingMessage, server: ServerConfig): string | null {
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  if (server.allowedOrigins.includes(origin)) return origin;
  throw new HttpError(
    403,
    `browser origin "${origin}" is not allowed; add it to server.allowedOrigins to let that page call Shepherd`,
    'permission_error',
    'origin_not_allowed',
  );
}

/**
 * Undefined when no local keys are configured; otherwise the presented key's label: "key-" and the
 * first 8 hex digits of its SHA-256, stable across restarts and safe to store (budgets and spend by key).
 */
export function checkApiKey(req: IncomingMessage, keys: readonly string[]): string | undefined {
  if (keys.length === 0) return undefined;
  const auth = req.headers.authorization;
  const presented =
    typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')
      ? auth.slice(7).trim()
      : typeof req.headers['x-api-key'] === 'string'
        ? req.headers['x-api-key']
        : undefined;
  if (presented === undefined) {
    throw new HttpError(401, 'this Shepherd requires a local API key: send it as "Authorization: Bearer <key>"', 'authentication_error', 'missing_api_key');
  }
  if (!keys.some((k) => sameSecret(k, presented))) {
    throw new HttpError(401, 'the local API key is not valid for this Shepherd', 'authentication_error', 'invalid_api_key');
  }
  return keyLabel(presented);
}

export function keyLabel(key: string): string {
  return `key-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

function sameSecret(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** Whether a listen address is reachable from this machine only (a name, or an IPv4/IPv6 literal). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === '::1' || isLoopbackName(h.startsWith('[') ? h : h.includes(':') ? `[${h}]` : h);
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

function isWildcard(name: string): boolean {
  return name === '0.0.0.0' || name === '[::]' || name === '::';
}
