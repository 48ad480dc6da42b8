// Live reload: watch the config file's folder, not the file (editors save by writing a new file and
// renaming it over the old one, which orphans a watch on the file itself), and hand over each version
// that differs from the last one handed over. The caller keeps its last good config on problems.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseConfigText, readConfigText, type LoadResult } from './load';

export interface WatchConfigOptions {
  /** Quiet time after the last file event before the file is read (default 150 ms). */
  debounceMs?: number;
  /**
   * The text the caller already uses (from its own load). A save that leaves it unchanged is no
   * reload, and the file is checked once at start to catch an edit made between that load and now.
   */
  initialText?: string;
  /** Replaces fs.watch; for tests. */
  watch?: typeof fsWatch;
  /** Called after each read of the file (delivered or not); for tests, which then need no fixed waits. */
  onChecked?: () => void;
}

export function watchConfig(path: string, onResult: (result: LoadResult) => void, options: WatchConfigOptions = {}): { close(): void } {
  const name = basename(path);
  const debounceMs = options.debounceMs ?? 150;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running = false;
  let again = false;
  let confirmingMissing = false;
  // What was last handed over: the text, or the read failure; the same again is not news.
  let last = options.initialText === undefined ? undefined : `text:${options.initialText}`;

  const deliver = (result: LoadResult, key: string) => {
    if (closed || key === last) return;
    last = key;
    try {
      onResult(result);
    } catch {
      // The caller's bug must not end live reload; it has its own error handling to fix.
    }
  };

  const checkOnce = async () => {
    const read = await readConfigText(path);
    if (closed) return;
    if (!read.ok) {
      // Some editors save by removing the file and writing it anew: a missing file is reported only
      // if it is still missing one debounce later (its return fires an event and a fresh check anyway).
      if (read.missing && !confirmingMissing) {
        confirmingMissing = true;
        schedule();
        return;
      }
      confirmingMissing = false;
      deliver({ ok: false, problems: read.problems }, `error:${JSON.stringify(read.problems)}`);
      return;
    }
    confirmingMissing = false;
    deliver(parseConfigText(read.text), `text:${read.text}`);
  };

  // One check at a time, so an older read never lands after a newer one.
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await checkOnce();
        options.onChecked?.();
      } while (again && !closed);
    } finally {
      running = false;
    }
  };

  function schedule() {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, debounceMs);
  }

  const stopped = (err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    watcher?.close();
    watcher = undefined;
    deliver(
      { ok: false, problems: [{ path: '(root)', message: `live reload stopped (${reason}); restart Shepherd to apply later edits` }] },
      `watch-error:${reason}`,
    );
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = (options.watch ?? fsWatch)(dirname(path), (_event, file) => {
      // Some platforms give no file name; then any change in the folder may be ours.
      if (file !== null && file !== name) return;
      schedule();
    });
    // A watcher error (the folder removed, inotify limits) ends live reload, never the daemon.
    watcher.on('error', stopped);
  } catch (err) {
    // Reported after this call returns, so the caller's handler sees a fully built watcher.
    queueMicrotask(() => stopped(err));
  }
  if (options.initialText !== undefined) schedule();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
    },
  };
}
