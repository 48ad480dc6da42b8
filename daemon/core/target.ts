// Where one attempt goes: a deployment resolved against its provider, with the key to use.
import type { ProviderConfig } from '../../shared/config';

/** Where one attempt goes: a deployment resolved against its provider. */
export interface UpstreamTarget {
  deploymentId: string;
  providerName: string;
  provider: ProviderConfig;
  upstreamModel: string;
  apiKey: string | undefined;
  /** Anthropic: mark the system prompt and tools of a translated request for caching when the client set no cache_control. */
  autoCacheBreakpoints?: boolean;
}
