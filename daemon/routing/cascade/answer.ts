// What the cascade's checks read: one answer, in the neutral shape of an OpenAI chat choice, and the
// parts of the request that say what was asked for. Pure types; the pipeline fills them in.
import type { Tier } from '../../../shared/routing-config';

export interface ToolCallSeen {
  name: string;
  /** The arguments as the model wrote them: JSON text, possibly invalid. */
  arguments: string;
}

export interface CheckedAnswer {
  content: string;
  finishReason: string | null;
  toolCalls: ToolCallSeen[];
  /** Output tokens, when the upstream reported them. */
  completionTokens?: number;
}

export interface CheckedRequest {
  /** The client's max_tokens / max_completion_tokens, when set. */
  maxTokens?: number;
  /** The client's response_format, when set. */
  responseFormat?: unknown;
  /** The client's tools, when offered. */
  tools?: unknown;
  /** The classifier's tier for the prompt: the prompt's kind for minLength. */
  tier: Tier;
}

/** Parsers and validators the checks use, injected: the pipeline loads them on first use. */
export interface CheckTools {
  /** Why this JavaScript does not parse, or undefined when it does. */
  parseJs(code: string): string | undefined;
  /** Why this TypeScript (tsx: with JSX) does not parse, or undefined when it does. */
  parseTs(code: string, tsx: boolean): string | undefined;
  /** Why this Python does not parse, or undefined when it does or no Python parser is loaded (yet). */
  parsePython(code: string): string | undefined;
  /** Why `value` does not match the JSON Schema; undefined when it does, or when the schema cannot be compiled. */
  validate(schema: object, value: unknown): string | undefined;
}

export const CHECK_NAMES = ['refusal', 'truncated', 'minLength', 'json', 'toolArgs', 'arithmetic', 'code'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckFailure {
  check: CheckName;
  /** What was wrong, short, for logs and the ledger-free header detail. */
  detail: string;
}
