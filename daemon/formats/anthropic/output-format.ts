// OpenAI's response_format on an Anthropic deployment. A JSON schema becomes Anthropic's structured
// outputs (`output_config.format`, generally available on the Claude API: no beta flag), so the answer
// is constrained to the schema as it is on OpenAI. JSON mode without a schema has no Anthropic
// counterpart (its format takes a schema only):
// a system instruction asks for one JSON object instead, which is what JSON mode promises anyway.
import { isRecord } from '../../../shared/is-record';

export const JSON_MODE_INSTRUCTION = 'Respond with one valid JSON object and nothing else: no prose before or after it, no code fences.';

export interface OutputFormat {
  /** For output_config.format. */
  format?: Record<string, unknown>;
  /** A system text to append (JSON mode). */
  instruction?: string;
}

export function outputFormatFor(responseFormat: unknown): OutputFormat {
  if (!isRecord(responseFormat)) return {};
  const spec = isRecord(responseFormat.json_schema) ? responseFormat.json_schema : undefined;
  if (responseFormat.type === 'json_schema' && isRecord(spec?.schema)) return { format: { type: 'json_schema', schema: spec.schema } };
  // json_object, or json_schema without a schema: JSON, shape unstated.
  if (responseFormat.type === 'json_object' || responseFormat.type === 'json_schema') return { instruction: JSON_MODE_INSTRUCTION };
  return {};
}
