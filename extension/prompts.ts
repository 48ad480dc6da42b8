// What the selection commands ask the model, and how a refactor answer becomes a replacement. Pure.
import type { ChatMessage } from '../shared/protocol';

export type SelectionTask = 'ask' | 'explain' | 'refactor' | 'tests';

export interface SelectionContext {
  code: string;
  languageId: string;
  fileName: string;
  /** The user's own instruction (Ask, and optionally Refactor). */
  instruction?: string;
}

const SYSTEM = 'You are a careful senior engineer helping inside a code editor. Be concise and concrete.';

export function taskTitle(task: SelectionTask): string {
  return { ask: 'Ask', explain: 'Explain', refactor: 'Refactor', tests: 'Tests' }[task];
}

export function buildMessages(task: SelectionTask, ctx: SelectionContext): ChatMessage[] {
  const fence = '```';
  const code = `${fence}${ctx.languageId}\n${ctx.code}\n${fence}`;
  const where = `From ${ctx.fileName} (${ctx.languageId}):`;
  const ask: Record<SelectionTask, string> = {
    ask: `${ctx.instruction ?? ''}\n\n${where}\n${code}`,
    explain: `Explain what this code does, step by step, and point out anything surprising.\n\n${where}\n${code}`,
    refactor:
      `Refactor this code${ctx.instruction ? `: ${ctx.instruction}` : ' for clarity without changing behaviour'}. ` +
      `Reply with the complete replacement in one fenced code block, then at most three short notes.\n\n${where}\n${code}`,
    tests: `Write unit tests for this code, using the test framework the language usually uses. Reply with the tests in one fenced code block.\n\n${where}\n${code}`,
  };
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: ask[task] },
  ];
}

/** The first fenced code block of an answer; undefined when there is none (the answer is then not applied). */
export function extractCode(answer: string): string | undefined {
  const match = /```[^\n`]*\n([\s\S]*?)\n?```/.exec(answer);
  return match ? match[1] : undefined;
}
