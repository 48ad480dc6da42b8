/** A start-up failure with a message meant for the user, not a stack trace, and the CLI's exit code. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The message of anything thrown, without a stack: start-up errors are shown to users. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
