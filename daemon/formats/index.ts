// The adapter for each provider type. A new wire format is one new module plus one line here.
import type { ProviderConfig } from '../../shared/config';
import { anthropic } from './anthropic/adapter';
import { gemini } from './gemini/adapter';
import { openaiCompatible } from './openai/adapter';
import type { ProviderAdapter } from './types';

const adapters: Record<ProviderConfig['type'], ProviderAdapter> = {
  'openai-compatible': openaiCompatible,
  anthropic,
  gemini,
};

export function adapterFor(type: ProviderConfig['type']): ProviderAdapter {
  return adapters[type];
}
