// A cascade (routing.auto.cascade; plan.cascade): the request goes to the chain's first group, whose
// answer is held back and checked (routing/cascade/checks.ts); when a check fails, the next group is
// asked, and so on; the last group's answer goes to the client as it comes. The client sees one
// answer. Every step that was not kept is a ledger line of its own (role "cascade", parent = the
// request, cascade = the check it failed), so budgets and spend count its cost; the request's own
// line says how the cascade ended (kept, escalated, direct).
import type { CascadePlan } from '../../routing/cascade/chain';
import type { CheckFailure } from '../../routing/cascade/answer';
import { checkAnswer } from '../../routing/cascade/checks';
import type { Plan } from '../../routing/plan';
import { HttpError } from '../../core/http-error';
import type { PipelineDeps } from '../deps';
import type { Exchange, HeldAnswer } from '../exchange';
import { failover } from '../failover';
import { finish, recordExtra } from '../finish';
import type { LineFacts } from '../ledger-line';
import { headerSafe } from '../relay';
import { answerFromFrames, answerFromWhole } from './read-answer';
import { checkTools, preparePython } from './tools';
import { PYTHON_FENCE } from '../../routing/cascade/code';

/** A plan for one more step's group (with the spend rules' verdict), or why there is none. */
export type StepPlanner = (group: string) => { ok: true; plan: Plan } | { ok: false; why: string };

type Outcome = { kind: 'answer'; answer: HeldAnswer } | { kind: 'failed'; facts: LineFacts; error: HttpError; headers: Record<string, string> };

export async function runCascade(deps: PipelineDeps, x: Exchange, planStep: StepPlanner): Promise<void> {
  const cascade = x.plan.cascade as CascadePlan;
  const { arrival } = x;
  const steps = cascade.steps;
  const streamStrong = arrival.body.stream === true && cascade.stream === 'strong';
  if (steps.length === 1 || streamStrong) {
    // No step to check: the classifier started the chain at its last group, or streams go straight there.
    const last = steps[steps.length - 1].group;
    const planned = last === x.plan.group.name ? ({ ok: true, plan: x.plan } as const) : planStep(last);
    arrival.cascade = 'direct';
    const where = !planned.ok
      ? `${x.plan.group.name}; not sent to ${last}: ${planned.why}`
      : streamStrong
        ? `stream to ${last} (cascade.stream strong)`
        : `${last} (the chain's last step)`;
    const extraHeaders = { 'x-shepherd-cascade': headerSafe(where), 'x-shepherd-escalated': 'no' };
    return failover(deps, { ...x, plan: planned.ok ? carry(planned.plan, x.plan) : x.plan, extraHeaders });
  }
  const caught: Caught[] = [];
  const path: string[] = [];
  let plan = x.plan;
  for (let i = 0; ; i++) {
    const group = steps[i].group;
    path.push(group);
    if (i === steps.length - 1) {
      arrival.cascade = 'escalated';
      return failover(deps, { ...x, plan, extraHeaders: escalatedHeaders(path, caught) });
    }
    let outcome: Outcome | undefined;
    await failover(deps, {
      ...x,
      plan,
      held: {
        answer: (answer) => void (outcome = { kind: 'answer', answer }),
        failed: (facts, error, headers) => void (outcome = { kind: 'failed', facts, error, headers }),
      },
    });
    // failover() ends every step in an answer or a failure; should neither come, the request still gets one ending.
    const got: Outcome = (outcome as Outcome | undefined) ?? noOutcome(x, group);
    const verdict = got.kind === 'answer' ? await check(x, cascade, got.answer) : undefined;
    if (got.kind === 'answer' && (verdict === undefined || x.cancel.aborted)) {
      arrival.cascade = i === 0 ? 'kept' : 'escalated';
      const headers = i === 0 ? { 'x-shepherd-cascade': group, 'x-shepherd-escalated': 'no' } : escalatedHeaders(path, caught);
      return send(deps, x, got.answer, headers);
    }
    if (x.cancel.aborted && got.kind === 'failed') return sendFailure(deps, x, got);
    const next = planStep(steps[i + 1].group);
    if (!next.ok) {
      // Nowhere to escalate to (no deployment left, over budget): the held answer is better than none.
      if (got.kind === 'answer') {
        arrival.cascade = 'kept';
        const headers = { 'x-shepherd-cascade': headerSafe(`${group}; not escalated: ${next.why}`), 'x-shepherd-escalated': 'no' };
        return send(deps, x, got.answer, headers);
      }
      return sendFailure(deps, x, got);
    }
    const failure: CheckFailure | undefined = verdict;
    const why = failure ? failure.check : 'failed';
    caught.push(failure ?? { check: 'failed', detail: `${group} gave no answer` });
    const facts: LineFacts = got.kind === 'answer' ? got.answer.facts : got.facts;
    if (facts.deployment) await recordExtra(deps, `${x.id}:step${i + 1}`, x, { ...facts, parent: x.id, role: 'cascade', cascade: why });
    // The check's name only: its detail quotes the answer, which logs never hold.
    deps.log.info('cascade escalated', { request: x.id, from: group, to: steps[i + 1].group, check: why });
    plan = carry(next.plan, x.plan);
  }
}

/** The first check the held answer fails, or undefined when it may be kept. */
async function check(x: Exchange, cascade: CascadePlan, held: HeldAnswer): Promise<CheckFailure | undefined> {
  const body = x.arrival.body;
  const answer = held.kind === 'whole' ? answerFromWhole(held.text) : answerFromFrames(held.text);
  if (cascade.checks.code && PYTHON_FENCE.test(answer.content)) await preparePython();
  const max = body.max_completion_tokens ?? body.max_tokens;
  const request = {
    ...(typeof max === 'number' && Number.isFinite(max) ? { maxTokens: max } : {}),
    responseFormat: body.response_format,
    tools: body.tools,
    tier: x.plan.auto?.tier ?? 'simple',
  };
  return checkAnswer(answer, request, cascade.checks, checkTools);
}

/** The held answer, to the client at last: whole, or its frames as one burst of the client's stream. */
async function send(deps: PipelineDeps, x: Exchange, held: HeldAnswer, extra: Record<string, string>): Promise<void> {
  const { arrival } = x;
  const now = performance.now();
  const facts: LineFacts = { ...held.facts, endedAt: now, firstTokenAt: now };
  const headers = { ...held.headers, ...extra };
  if (held.kind === 'whole') {
    return finish(deps, x.id, arrival, facts, { kind: 'answer', body: arrival.client.wholeBody(held.text), headers });
  }
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers.connection = 'keep-alive';
  if (!arrival.res.headersSent && !arrival.res.destroyed) arrival.res.writeHead(200, headers);
  return finish(deps, x.id, arrival, facts, { kind: 'stream', tail: arrival.client.streamEncoder().end(held.text) });
}

function noOutcome(x: Exchange, group: string): Outcome {
  const error = new HttpError(502, `the cascade step on "${group}" ended without an answer`, 'api_error', 'cascade_no_outcome');
  return { kind: 'failed', facts: { group, deployment: null, attempts: 0, status: 502, endedAt: performance.now(), error: error.message }, error, headers: { 'x-request-id': x.id } };
}

function sendFailure(deps: PipelineDeps, x: Exchange, failed: Extract<Outcome, { kind: 'failed' }>): Promise<void> {
  return finish(deps, x.id, x.arrival, failed.facts, { kind: 'error', error: failed.error, headers: failed.headers });
}

/** Why a step was not kept: the check its answer failed, or `failed` when it gave none. */
type Caught = { check: string; detail: string };

function escalatedHeaders(path: string[], caught: Caught[]): Record<string, string> {
  return {
    'x-shepherd-cascade': headerSafe(path.join(' -> ')),
    'x-shepherd-escalated': caught.map((c) => c.check).join(', '),
    'x-shepherd-escalated-detail': headerSafe(caught.map((c) => c.detail).join('; ')),
  };
}

/** A later step's plan keeps the request's auto facts (its tier header, its cascade). */
function carry(plan: Plan, first: Plan): Plan {
  return { ...plan, ...(first.auto ? { auto: first.auto } : {}), ...(first.cascade ? { cascade: first.cascade } : {}) };
}
