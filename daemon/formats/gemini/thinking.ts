// OpenAI's reasoning_effort (and Anthropic's `thinking`, which the Anthropic endpoint turns into
// reasoning_effort) as Gemini's generationConfig.thinkingConfig. Gemini 3 and later take a level;
// Gemini 2.5 takes a token budget (newer models still accept one, so it is the form for any model
// name Shepherd cannot place). The two in one request are refused by Gemini, so exactly one is sent.
// Pro models cannot switch thinking off and know fewer levels: the nearest they accept is sent.

/** Budgets as Google's own OpenAI-compatible endpoint maps efforts for Gemini 2.5 (Pro's minimum is 128). */
const BUDGET: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24_576 };
const PRO_MINIMUM_BUDGET = 128;

// Gemini 3 Flash knows minimal, low, medium and high; Gemini 3 Pro only low and high.
const LEVEL: Record<string, string> = { none: 'minimal', minimal: 'minimal', low: 'low', medium: 'medium', high: 'high' };
const PRO_LEVEL: Record<string, string> = { none: 'low', minimal: 'low', low: 'low', medium: 'high', high: 'high' };

/** The generation (major version) in a Gemini model name such as `gemini-3-flash-preview`, or undefined. */
function generation(model: string): number | undefined {
  const m = /(?:^|\/)gemini-(\d+)(?:[.-]|$)/i.exec(model);
  return m ? Number(m[1]) : undefined;
}

/** thinkingConfig for an effort on this upstream model, or undefined (no effort, or one Gemini has no match for). */
export function thinkingConfigFor(effort: unknown, model: string): Record<string, unknown> | undefined {
  if (typeof effort !== 'string' || BUDGET[effort] === undefined) return undefined;
  const pro = /-pro\b/i.test(model);
  if ((generation(model) ?? 0) >= 3) return { thinkingLevel: (pro ? PRO_LEVEL : LEVEL)[effort] };
  return { thinkingBudget: pro ? Math.max(PRO_MINIMUM_BUDGET, BUDGET[effort]) : BUDGET[effort] };
}
