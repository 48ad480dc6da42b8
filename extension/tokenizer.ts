// Token counting for VS Code's language model API (provideTokenCount): the o200k_base encoding of
// GPT-4o/4.1, the same real tokenizer the daemon uses for its estimates. Built as its own bundle,
// dist/tokenizer.js, and loaded on the first count: its 2.4 MB of ranks stay out of the extension's
// start-up. Other providers' tokenizers differ by some percent; callers use the count to fit a
// prompt into a context window, where that is close enough.
import { countTokens } from 'gpt-tokenizer';

// Text such as "<|endoftext|>" in a prompt is ordinary text here, not a reason to throw.
const PLAIN = { disallowedSpecial: new Set<string>() };

export function count(text: string): number {
  return text === '' ? 0 : countTokens(text, PLAIN);
}
