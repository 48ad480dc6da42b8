// The control-channel messages behind Shepherd's models in VS Code's language model API: the
// extension sends an OpenAI chat request (translated from VS Code's messages, tools and tool results),
// the daemon runs it through its own OpenAI-compatible port like any other client and sends back the
// streamed answer as normalised deltas (text, tool-call fragments), then `chat.done` or `chat.error`.
// Only the fields Shepherd's models need are accepted; the daemon validates every one of them.
import { z } from 'zod';

const text = z.string().max(16 * 1024 * 1024);
const shortName = z.string().min(1).max(200);

export const LmContentPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text }).strict(),
  /** A data: URL, as OpenAI takes images inline. */
  z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().max(16 * 1024 * 1024) }).strict() }).strict(),
]);
export type LmContentPart = z.infer<typeof LmContentPartSchema>;

export const LmToolCallSchema = z
  .object({
    id: shortName,
    type: z.literal('function'),
    /** JSON text, as OpenAI sends and takes it. */
    function: z.object({ name: shortName, arguments: text }).strict(),
  })
  .strict();
export type LmToolCall = z.infer<typeof LmToolCallSchema>;

export const LmMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: text }).strict(),
  z.object({ role: z.literal('user'), content: z.union([text, z.array(LmContentPartSchema).min(1)]) }).strict(),
  z.object({ role: z.literal('assistant'), content: text.nullable(), tool_calls: z.array(LmToolCallSchema).min(1).optional() }).strict(),
  z.object({ role: z.literal('tool'), tool_call_id: shortName, content: text }).strict(),
]);
export type LmMessage = z.infer<typeof LmMessageSchema>;

export const LmToolSchema = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: shortName,
        description: z.string().max(64 * 1024).optional(),
        /** A JSON Schema object for the tool's input. */
        parameters: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();
export type LmTool = z.infer<typeof LmToolSchema>;

/** The OpenAI chat request the daemon sends to its own port (it adds stream and stream_options itself). */
export const LmRequestBodySchema = z
  .object({
    /** A model group, an alias, "auto" or "auto:<profile>". */
    model: shortName,
    messages: z.array(LmMessageSchema).min(1).max(10_000),
    tools: z.array(LmToolSchema).max(512).optional(),
    tool_choice: z.union([z.enum(['auto', 'required', 'none']), z.object({ type: z.literal('function'), function: z.object({ name: shortName }).strict() }).strict()]).optional(),
    max_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop: z.union([z.string().max(1000), z.array(z.string().max(1000)).max(4)]).optional(),
  })
  .strict();
export type LmRequestBody = z.infer<typeof LmRequestBodySchema>;

/** One fragment of a streamed tool call: OpenAI sends the id and name first, the arguments in pieces. */
export const LmToolCallDeltaSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
});
export type LmToolCallDelta = z.infer<typeof LmToolCallDeltaSchema>;

/** What one stream frame added to the answer. */
export const LmDeltaSchema = z.object({
  text: z.string().optional(),
  toolCalls: z.array(LmToolCallDeltaSchema).optional(),
  finishReason: z.string().optional(),
});
export type LmDelta = z.infer<typeof LmDeltaSchema>;

/** Extension ids are publisher.name; the daemon also checks the charset before it reaches the ledger. */
export const LmClientSchema = z.string().min(1).max(100);
