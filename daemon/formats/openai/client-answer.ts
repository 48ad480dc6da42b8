// The OpenAI client format (POST /v1/chat/completions): the router works in OpenAI chat completions
// inside, so answers, stream frames and errors pass through as the upstream adapter produced them.
import { errorJson } from '../../core/http-error';
import type { ChatEndpoint, ClientFormat, ClientStreamEncoder } from '../client-format';
import { parseChatRequest } from './client-request';

const passThrough: ClientStreamEncoder = {
  push: (frames) => frames,
  end: (frames) => frames,
  error: (message, type, code) => `data: ${errorJson(message, type, code)}\n\ndata: [DONE]\n\n`,
};

export const openaiClient: ClientFormat = {
  name: 'openai',
  wholeBody: (json) => json,
  streamEncoder: () => passThrough,
  errorBody: (err) => errorJson(err.message, err.type, err.code, err.param),
};

export const chatCompletions: ChatEndpoint = { endpoint: 'chat', parse: parseChatRequest, client: openaiClient };
