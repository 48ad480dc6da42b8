// Start-up as an ordered list of steps, each with its undo. A step that fails undoes the ones before
// it (newest first) and rejects with a StartError naming the step; stopping runs the same undos, so
// start-up and shutdown cannot drift apart and nothing opened by a failed start keeps the process alive.
import { messageOf, StartError } from './start-error';

interface Undo {
  name: string;
  undo: () => unknown;
}

export class Steps {
  private readonly undos: Undo[] = [];
  private unwinding: Promise<void> | undefined;

  /** `onUndoError` hears an undo that failed; the others still run. */
  constructor(private readonly onUndoError: (step: string, err: unknown) => void) {}

  /** Runs one step; its undo (given the step's result) runs on a later failure or on stop. */
  async run<T>(name: string, step: () => T | Promise<T>, undo?: (value: T) => unknown): Promise<T> {
    let value: T;
    try {
      value = await step();
    } catch (err) {
      await this.unwind();
      throw new StartError(`could not ${name}: ${messageOf(err)}`, err instanceof StartError ? err.exitCode : 1);
    }
    if (undo) this.undos.push({ name, undo: () => undo(value) });
    return value;
  }

  /** Registers an undo for something that needs no doing first (e.g. removing a file only we write). */
  defer(name: string, undo: () => unknown): void {
    this.undos.push({ name, undo });
  }

  /** Runs every undo once, newest first; later calls wait for the same run. */
  unwind(): Promise<void> {
    this.unwinding ??= (async () => {
      for (const { name, undo } of this.undos.splice(0).reverse()) {
        try {
          await undo();
        } catch (err) {
          this.onUndoError(name, err);
        }
      }
    })();
    return this.unwinding;
  }
}
