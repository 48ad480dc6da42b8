// The config written on first run: the official providers and an OpenAI-compatible relay, and the
// model groups the project's seed articles name, with list prices in USD per 1M tokens.
//
// The prices are the providers' published list prices as we knew them at the `checked` date; they
// were not re-read from the providers' pages when this file was written (this machine has no web
// access). Users can and should adjust them in their config.
import type { ShepherdConfigInput } from '../../shared/config';

export function presetConfig(): ShepherdConfigInput {
  return {
    $schema: './config.schema.json',
    server: { host: '127.0.0.1', port: 4210 },
    sandbox: 'auto',
    providers: {
      openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' },
      // Anthropic's and Google's OpenAI-compatible endpoints, until their native adapters land.
      anthropic: { baseUrl: 'https://api.anthropic.com/v1', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', apiKeyEnv: 'GEMINI_API_KEY' },
      deepseek: { baseUrl: 'https://api.deepseek.com/v1', apiKeyEnv: 'DEEPSEEK_API_KEY' },
      openrouter: { baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY' },
    },
    models: {
      'gpt-4.1': {
        aliases: ['gpt4', 'gpt-4'],
        price: { input: 2.0, cachedInput: 0.5, output: 8.0, checked: '2025-10-01' },
        deployments: [
          { provider: 'openai', model: 'gpt-4.1' },
          { provider: 'openrouter', model: 'openai/gpt-4.1' },
        ],
      },
      'claude-sonnet-4.5': {
        aliases: ['claude-sonnet', 'claude-3-5-sonnet', 'sonnet'],
        price: { input: 3.0, cachedInput: 0.3, output: 15.0, checked: '2025-10-01' },
        deployments: [
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          { provider: 'openrouter', model: 'anthropic/claude-sonnet-4.5' },
        ],
      },
      'gemini-2.5-flash': {
        aliases: ['gemini-flash'],
        price: { input: 0.3, cachedInput: 0.03, output: 2.5, checked: '2025-10-01' },
        deployments: [
          { provider: 'gemini', model: 'gemini-2.5-flash' },
          { provider: 'openrouter', model: 'google/gemini-2.5-flash' },
        ],
      },
      'deepseek-v3.2': {
        aliases: ['deepseek-v3', 'deepseek'],
        price: { input: 0.28, cachedInput: 0.028, output: 0.42, checked: '2025-10-01' },
        deployments: [
          { provider: 'deepseek', model: 'deepseek-chat' },
          { provider: 'openrouter', model: 'deepseek/deepseek-v3.2-exp' },
        ],
      },
    },
  };
}
