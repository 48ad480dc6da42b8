// Token counting with the o200k_base encoding of GPT-4o/4.1: the daemon's usage estimates (when an
// upstream reports none) and the extension's provideTokenCount. Built as its own bundle,
// dist/tokenizer.js, that both load on their first count: its 2.4 MB of ranks stay out of the
// daemon's and the extension's start-up. Other providers' tokenizers differ by some percent.
import { countTokens } from 'gpt-tokenizer';

// Text such as "<|endoftext|>" in a prompt is ordinary text here, not a reason to throw.
const PLAIN = { disallowedSpecial: new Set<string>() };

export function count(text: string): number {
  return text === '' ? 0 : countTokens(text, PLAIN);
}
