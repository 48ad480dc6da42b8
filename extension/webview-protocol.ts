// Messages between the spend view's page and the extension. The page receives the state to draw and
// sends back the few things a user can click. Validated on both sides like the control channel.
import { z } from 'zod';
import { SnapshotSchema } from '../shared/protocol';

export const ToPageSchema = z.object({
  type: z.literal('state'),
  connection: z.enum(['idle', 'starting', 'connecting', 'connected', 'stopped']),
  snapshot: SnapshotSchema.nullable(),
  currency: z.object({ code: z.string(), rate: z.number() }),
  /** Scroll to and focus this section (Show Health). */
  focus: z.enum(['health']).optional(),
});
export type ToPage = z.infer<typeof ToPageSchema>;

export const FromPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('openConfig') }),
]);
export type FromPage = z.infer<typeof FromPageSchema>;
