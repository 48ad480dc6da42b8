// TEMPORARY stand-in until the config module lands.
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseConfigText, type LoadResult } from './load';
export function watchConfig(path: string, onResult: (r: LoadResult) => void, options: { debounceMs?: number } = {}): { close(): void } {
  let timer: NodeJS.Timeout | undefined; let last: string | undefined;
  const w = watch(dirname(path), (_e, f) => {
    if (f !== basename(path)) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined || text === last) return;
      last = text; onResult(parseConfigText(text, path));
    }, options.debounceMs ?? 150);
  });
  w.on('error', () => undefined);
  return { close() { clearTimeout(timer); w.close(); } };
}
