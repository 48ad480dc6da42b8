// One chat request as the pipeline carries it, from arrival to its one finish.
import type { ServerResponse } from 'node:http';
import type { Cancel } from '../core/cancel';
import type { LedgerEndpoint } from '../../shared/ledger';
import type { ChatBody, Operation } from '../core/chat';
import type { NativeRequest } from '../core/native';
import type { ConfigSnapshot } from '../config/snapshot';
import type { ClientFormat } from '../formats/client-format';
import type { Plan } from '../routing/plan';
import type { HttpError } from '../core/http-error';
import type { LineFacts } from './ledger-line';

/** What the front door hands the pipeline: a parsed body and who sent it. */
export interface Arrival {
  /** The id the front door gave the request (x-request-id); the pipeline makes one when absent. */
  id?: string;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  /** The client's body, translated to an OpenAI chat body when the client speaks another format. */
  body: ChatBody;
  /** The wire format the client speaks (OpenAI, or Anthropic on /v1/messages). */
  client: ClientFormat;
  /**
   * What is asked of the upstream; chat when absent. For embeddings and completions `body` is a
   * chat-shaped view of the request (model, stream, max_tokens, the input text as one user message)
   * that routing, budgets and estimates read, and `payload` is the client's own body, which the
   * adapter passes through or translates.
   */
  operation?: Operation;
  payload?: Record<string, unknown>;
  /** The endpoint the ledger line names (absent = chat). */
  endpoint?: LedgerEndpoint;
  /** The client's body as sent, when its format may pass through to a deployment that speaks it. */
  native?: NativeRequest;
  /** This conversation's cache-affinity key (routing/affinity.ts), set when the pipeline plans it. */
  affinityKey?: string;
  /** The config snapshot taken when the request arrived: every attempt and retry of it uses this one. */
  state: ConfigSnapshot;
  res: ServerResponse;
  /** A cascade's outcome, written on the request's own ledger line (`cascade`): set by pipeline/cascade/. */
  cascade?: string;
  /** Which local API key the client presented (a label, never the key), when keys are in use. */
  clientKeyId?: string;
  /** Team mode: the member the request belongs to (the ledger's `member`). */
  member?: string;
  /** Who is asking, when the client named itself (the ledger's `client`). */
  caller?: string;
  /** Registers the request so shutdown can wait for it or cancel it; call the result when done. */
  track(cancel: Cancel): () => void;
}

/** A request the pipeline accepted: its id, and once planned, the plan and its bounds. */
export interface Exchange {
  id: string;
  arrival: Arrival;
  plan: Plan;
  /** Aborted when the client goes away, at shutdown, or at the deadline. */
  cancel: Cancel;
  /** performance.now() by which the whole request must be done (upstream.totalMs after it arrived). */
  deadlineAt: number;
  /** A fresh plan for another pass (current health, the same config snapshot), or undefined. */
  replan(): Plan | undefined;
  /** A cascade step whose answer is checked before the client sees it (pipeline/cascade/): answers and failures go here, not to the client. */
  held?: HeldStep;
  /** Headers added to the answer (the cascade's). */
  extraHeaders?: Record<string, string>;
}

/** An answer a cascade step held back: a whole OpenAI chat completion, or all the OpenAI stream frames of one. */
export interface HeldAnswer {
  kind: 'whole' | 'stream';
  /** The OpenAI JSON body (whole) or SSE frames, [DONE] included (stream). */
  text: string;
  facts: LineFacts;
  headers: Record<string, string>;
}

export interface HeldStep {
  answer(a: HeldAnswer): void;
  /** No deployment answered: what the client would have been told. */
  failed(facts: LineFacts, error: HttpError, headers: Record<string, string>): void;
}
