// Live reload: watch the config file's folder (editors save by writing a new file and renaming it over
// the old one, which would orphan a watch on the file itself) and hand each changed version over.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadConfigFile, type LoadResult } from './load';

export function watchConfig(
  path: string,
  onResult: (result: LoadResult) => void,
  options: {
    debounceMs?: number;
    /** The text already in use, so a save that changes nothing is not a reload. */
    initialText?: string;
  } = {},
): { close(): void } {
  const name = basename(path);
  const debounceMs = options.debounceMs ?? 150;
  let timer: NodeJS.Timeout | undefined;
  let lastText = options.initialText;
  let closed = false;

  const check = async () => {
    const result = await loadConfigFile(path);
    if (closed) return;
    const text = result.ok ? result.text : undefined;
    // An editor touching the file without changing it (or a second event for one save) is no reload.
    if (text !== undefined && text === lastText) return;
    if (text !== undefined) lastText = text;
    onResult(result);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), debounceMs);
    });
    // A watcher error (the folder removed, too many watches) ends live reload, never the daemon.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
