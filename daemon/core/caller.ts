// Who is asking: a client may name itself in the `x-shepherd-client` header (the VS Code extension
// sends the id of the extension that used a Shepherd model), and the request's ledger line keeps it.
// pipeline/request.ts reads it once and carries it on the request to the ledger line. (Not
// AsyncLocalStorage: its first use turns on promise hooks for the whole process, a cost every later
// request would pay.)

export const CLIENT_HEADER = 'x-shepherd-client';
/** Extension ids are publisher.name; 100 characters is far more than any real one needs. */
export const MAX_CLIENT_LENGTH = 100;

/**
 * The caller's name from its header, or undefined when absent or unusable. It ends up in the ledger,
 * CSV exports and the spend view, so only a short, plain name is kept: letters, digits and `._-@/:`,
 * lower-cased (VS Code compares extension ids case-insensitively). Anything else is dropped, not
 * rejected: a bad tag must never fail a request.
 */
export function clientTag(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const tag = raw.trim().toLowerCase();
  if (tag.length === 0 || tag.length > MAX_CLIENT_LENGTH || !/^[a-z0-9][a-z0-9._\-@/:]*$/.test(tag)) return undefined;
  return tag;
}
