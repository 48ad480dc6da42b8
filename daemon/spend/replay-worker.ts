// The replay worker's entry point (a worker_threads Worker started by replay-split.ts): reads the
// later part of a cold replay's bytes while the main thread reads the earlier part, and posts back
// one tally per month file. Bundled as dist/replay-worker.js (esbuild.mjs); from source, run through
// tsx. Any failure ends the worker with an error, and the main thread then reads the part itself.
import { parentPort, workerData } from 'node:worker_threads';
import { readParts, type PartsReply, type ReplayPart } from './replay-part';

async function main(): Promise<void> {
  if (!parentPort) throw new Error('replay-worker.ts runs only as a worker thread');
  const { parts } = workerData as { parts: ReplayPart[] };
  const reply: PartsReply = { results: await readParts(parts) };
  parentPort.postMessage(reply);
}

main().catch((err: unknown) => {
  // Rethrown outside the promise: an uncaught error ends the worker and reaches the main thread as 'error'.
  setImmediate(() => {
    throw err;
  });
});
