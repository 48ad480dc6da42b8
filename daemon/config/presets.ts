// The config written on first run, and the model list the sandbox serves when no key is set: the
// official providers plus OpenRouter as an OpenAI-compatible relay, six chat model groups with two
// deployments each (the official provider first, the relay as the fallback), an autocomplete group
// for fill-in-the-middle (Codestral, then DeepSeek's FIM beta) and three embedding groups.
//
// Prices are list prices in USD per 1M tokens. They come from the author's knowledge of the providers'
// published pricing, NOT from a live check of their pricing pages (this was written on a machine with
// no web access). `checked` is the date we believe each price was published (the model's launch or
// price change), so read it as "as published on", not "verified on". Gemini 2.5 Flash's cached-input
// price is the least certain of these (it may have been published later than that model's GA date).
// Users can and should correct prices in their own config.
//
// Context windows, output limits and capabilities are the providers' published model limits, from the
// same knowledge and with the same caveat; they only describe the models to clients (VS Code's model
// list), routing never reads them. DeepSeek's is the smaller of its own API (128K) and the relay's.
//
// No region labels: each of these endpoints is one global API, and a made-up label would only add
// noise to deployment ids (provider/model@region). All keys are read from environment variables;
// presets never hold a key.
import type { ShepherdConfigInput } from '../../shared/config';

export function presetConfig(): ShepherdConfigInput {
  return {
    $schema: './config.schema.json',
    server: { host: '127.0.0.1', port: 4210 },
    sandbox: 'auto',
    // Spend reports compare with "every request on gpt-4.1"; budgets are the user's to add (README).
    savingsBaseline: 'gpt-4.1',
    providers: {
      // OpenAI serves the Responses API itself: POST /v1/responses passes through to it unchanged.
      openai: { type: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', responsesApi: true },
      // Anthropic's and Google's own APIs, through the native adapters (usage incl. cache reads is exact).
      // autoCacheBreakpoints: OpenAI-format agents (Cline, Continue) get their long system prompt and tools cached.
      anthropic: { type: 'anthropic', baseUrl: 'https://api.anthropic.com/v1', apiKeyEnv: 'ANTHROPIC_API_KEY', autoCacheBreakpoints: true },
      gemini: { type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/v1beta', apiKeyEnv: 'GEMINI_API_KEY' },
      deepseek: { type: 'openai-compatible', baseUrl: 'https://api.deepseek.com/v1', apiKeyEnv: 'DEEPSEEK_API_KEY' },
      openrouter: { type: 'openai-compatible', baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY' },
      // Fill-in-the-middle for editor autocomplete (POST /v1/completions with `suffix`): DeepSeek's
      // beta base URL serves OpenAI's /completions; Mistral's Codestral API has its own FIM path.
      'deepseek-fim': { type: 'openai-compatible', baseUrl: 'https://api.deepseek.com/beta', apiKeyEnv: 'DEEPSEEK_API_KEY', completions: true },
      codestral: { type: 'openai-compatible', baseUrl: 'https://codestral.mistral.ai/v1', apiKeyEnv: 'CODESTRAL_API_KEY', completionsPath: '/fim/completions' },
    },
    models: {
      'gpt-4.1': {
        // Dated names (gpt-4.1-2025-04-14) normalise to the group's own name.
        aliases: ['gpt4', 'gpt-4'],
        price: { input: 2.0, cachedInput: 0.5, output: 8.0, checked: '2025-04-14' },
        contextWindow: 1_047_576,
        maxOutputTokens: 32_768,
        capabilities: { tools: true, images: true },
        deployments: [
          { provider: 'openai', model: 'gpt-4.1' },
          { provider: 'openrouter', model: 'openai/gpt-4.1' },
        ],
      },
      // Claude Code resolves its family names (opus, sonnet, haiku) to full model names itself, and
      // those change with every release (claude-opus-5-5, claude-haiku-4-5-20251001...): the
      // patterns catch them, so a fresh install serves Claude Code with no flags.
      'claude-sonnet-4.5': {
        aliases: ['claude-sonnet', 'claude-3-5-sonnet', 'claude-3-7-sonnet', 'sonnet', 'claude-sonnet-*', 'claude-*-sonnet-*'],
        // When every Claude deployment is down, answer with the next-best models rather than fail.
        fallbacks: ['gpt-4.1', 'gemini-2.5-flash'],
        // cachedInput is Anthropic's cache-read price; cacheWrite its 5-minute and cacheWrite1h its 1-hour cache-write price.
        price: { input: 3.0, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6.0, output: 15.0, checked: '2025-09-29' },
        contextWindow: 200_000,
        maxOutputTokens: 64_000,
        capabilities: { tools: true, images: true },
        deployments: [
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          { provider: 'openrouter', model: 'anthropic/claude-sonnet-4.5' },
        ],
      },
      'claude-opus-4.5': {
        aliases: ['claude-opus', 'claude-3-opus', 'opus', 'claude-opus-*', 'claude-*-opus-*'],
        fallbacks: ['claude-sonnet-4.5'],
        price: { input: 5.0, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10.0, output: 25.0, checked: '2025-11-24' },
        contextWindow: 200_000,
        maxOutputTokens: 64_000,
        capabilities: { tools: true, images: true },
        deployments: [
          { provider: 'anthropic', model: 'claude-opus-4-5' },
          { provider: 'openrouter', model: 'anthropic/claude-opus-4.5' },
        ],
      },
      'claude-haiku-4.5': {
        aliases: ['claude-haiku', 'claude-3-5-haiku', 'claude-3-haiku', 'haiku', 'claude-haiku-*', 'claude-*-haiku-*'],
        fallbacks: ['gemini-2.5-flash'],
        price: { input: 1.0, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2.0, output: 5.0, checked: '2025-10-15' },
        contextWindow: 200_000,
        maxOutputTokens: 64_000,
        capabilities: { tools: true, images: true },
        deployments: [
          { provider: 'anthropic', model: 'claude-haiku-4-5' },
          { provider: 'openrouter', model: 'anthropic/claude-haiku-4.5' },
        ],
      },
      'gemini-2.5-flash': {
        // Dated and -latest names normalise to these (gemini-2.5-flash-latest, gemini-flash-latest).
        aliases: ['gemini-flash', 'gemini-2.5-flash-preview-*'],
        price: { input: 0.3, cachedInput: 0.03, output: 2.5, checked: '2025-06-17' },
        contextWindow: 1_048_576,
        maxOutputTokens: 65_536,
        capabilities: { tools: true, images: true },
        deployments: [
          { provider: 'gemini', model: 'gemini-2.5-flash' },
          { provider: 'openrouter', model: 'google/gemini-2.5-flash' },
        ],
      },
      'deepseek-v3.2': {
        aliases: ['deepseek-v3', 'deepseek'],
        // DeepSeek's cache-hit / cache-miss input prices and output price from the V3.2-Exp price cut.
        price: { input: 0.28, cachedInput: 0.028, output: 0.42, checked: '2025-09-29' },
        contextWindow: 128_000,
        maxOutputTokens: 8_192,
        capabilities: { tools: true, images: false },
        deployments: [
          { provider: 'deepseek', model: 'deepseek-chat' },
          { provider: 'openrouter', model: 'deepseek/deepseek-v3.2-exp' },
        ],
      },
      // Tab autocomplete (POST /v1/completions with `suffix`): Codestral first, DeepSeek's FIM beta as
      // the fallback. Codestral 25.01's list price; DeepSeek's is its chat model's (the same model).
      codestral: {
        aliases: ['autocomplete', 'fim'],
        price: { input: 0.3, output: 0.9, checked: '2025-01-13' },
        contextWindow: 256_000,
        deployments: [
          { provider: 'codestral', model: 'codestral-latest' },
          { provider: 'deepseek-fim', model: 'deepseek-chat', price: { input: 0.28, cachedInput: 0.028, output: 0.42, checked: '2025-09-29' } },
        ],
      },
      // Embedding groups (POST /v1/embeddings): priced per input token; `output` is unused.
      'text-embedding-3-small': {
        kind: 'embedding',
        aliases: ['embedding'],
        price: { input: 0.02, output: 0, checked: '2024-01-25' },
        deployments: [{ provider: 'openai', model: 'text-embedding-3-small' }],
      },
      'text-embedding-3-large': {
        kind: 'embedding',
        price: { input: 0.13, output: 0, checked: '2024-01-25' },
        deployments: [{ provider: 'openai', model: 'text-embedding-3-large' }],
      },
      'gemini-embedding-001': {
        kind: 'embedding',
        price: { input: 0.15, output: 0, checked: '2025-07-14' },
        deployments: [{ provider: 'gemini', model: 'gemini-embedding-001' }],
      },
    },
  };
}
