// Before measuring: every target must really answer through the upstream, streaming and not.
import { request } from 'undici';
import { chatRequest, CHAT_BODY } from './load.mjs';
import { MODELS } from './targets.mjs';

export async function sanityCheck(target) {
  const req = chatRequest(target, CHAT_BODY);
  const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.body.text();
  let content;
  try {
    content = JSON.parse(text).choices?.[0]?.message?.content;
  } catch {
    // reported below
  }
  // Sandbox answers start with "[sandbox]": the request reached the upstream and came back whole.
  if (res.statusCode !== 200 || typeof content !== 'string' || !content.startsWith('[sandbox]')) {
    throw new Error(`${target.name} does not relay to the upstream: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  }
  const s = chatRequest(target, { model: MODELS.paced, messages: [{ role: 'user', content: 'hi' }], stream: true });
  const sres = await request(s.url, { method: 'POST', headers: s.headers, body: s.body });
  const stext = await sres.body.text();
  if (sres.statusCode !== 200 || !stext.includes('[sandbox]') || !stext.includes('data: [DONE]')) {
    throw new Error(`${target.name} does not relay streams: HTTP ${sres.statusCode} ${stext.slice(0, 300)}`);
  }
}
