// Renders a zod issue path the way Shepherd prints it everywhere: `models.gpt-4.1.deployments[0].provider`.
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const name = String(segment) === '' ? '""' : String(segment); // an empty key must still show
      out += out === '' ? name : `.${name}`;
    }
  }
  return out === '' ? '(root)' : out;
}
