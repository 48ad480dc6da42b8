// An upstream failure's message, cleaned before anyone sees or stores it: the deployment's secrets
// (its API key and every configured header value) masked, text echoed from the request replaced, and
// the rest cut to a bounded length. See core/redact.ts.
import type { ChatBody } from '../core/chat';
import type { UpstreamFailure } from '../core/failure';
import { requestTexts, scrubEchoes, secretMasker, truncateMessage } from '../core/redact';
import type { Deployment } from '../routing/catalog';

const maskers = new WeakMap<Deployment, (text: string) => string>();

/** The deployment's masker; a config reload makes new Deployment objects, so it never goes stale. */
export function maskerFor(deployment: Deployment): (text: string) => string {
  let mask = maskers.get(deployment);
  if (!mask) {
    mask = secretMasker([deployment.apiKey, ...Object.values(deployment.provider.headers ?? {})]);
    maskers.set(deployment, mask);
  }
  return mask;
}

export function cleanFailure(failure: UpstreamFailure, deployment: Deployment, body: ChatBody): UpstreamFailure {
  const message = truncateMessage(scrubEchoes(maskerFor(deployment)(failure.message), requestTexts(body)));
  return message === failure.message ? failure : { ...failure, message };
}
