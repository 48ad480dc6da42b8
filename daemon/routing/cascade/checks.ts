// The cascade's verdict on one answer: the first check that fails, or undefined when the answer may be
// kept. Cheapest checks first; each runs only when switched on (routing.auto.cascade.checks). Pure.
import type { CascadeChecks } from '../../../shared/routing-config';
import type { CheckedAnswer, CheckedRequest, CheckFailure, CheckTools } from './answer';
import { checkArithmetic } from './arithmetic';
import { checkCode } from './code';
import { checkMinLength, checkRefusal, checkTruncated } from './plain';
import { checkJson, checkToolArgs } from './structured';

export function checkAnswer(answer: CheckedAnswer, request: CheckedRequest, checks: CascadeChecks, tools: CheckTools): CheckFailure | undefined {
  return (
    (checks.refusal ? checkRefusal(answer, checks.refusalPhrases, checks.refusalMaxChars) : undefined) ??
    (checks.truncated ? checkTruncated(answer, request.maxTokens) : undefined) ??
    checkMinLength(answer, request, checks.minLength) ??
    (checks.json ? checkJson(answer, request.responseFormat, tools) : undefined) ??
    (checks.toolArgs ? checkToolArgs(answer, request.tools, tools) : undefined) ??
    (checks.arithmetic ? checkArithmetic(answer.content) : undefined) ??
    (checks.code ? checkCode(answer.content, tools) : undefined)
  );
}
