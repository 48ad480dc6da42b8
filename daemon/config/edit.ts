// Changes the config file on the user's behalf (a budget limit, a strategy) the way a careful person
// would: only the one value changes, comments and formatting stay, the result must still load, and the
// file is replaced atomically so the watcher never reads half of it. The watcher then reloads it.
import { stat } from 'node:fs/promises';
import { applyEdits, modify, type JSONPath } from 'jsonc-parser';
import { writeFileAtomic } from '../core/atomic-file';
import { formatProblems, parseConfigText, readConfigText } from './load';

export interface ConfigEdit {
  path: JSONPath;
  value: unknown;
}

export type EditResult = { ok: true } | { ok: false; message: string };

export async function editConfigFile(file: string, edits: ConfigEdit[]): Promise<EditResult> {
  const read = await readConfigText(file);
  if (!read.ok) return { ok: false, message: formatProblems(file, read.problems) };
  let text = read.text;
  for (const edit of edits) {
    text = applyEdits(text, modify(text, edit.path, edit.value, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }));
  }
  // Never write a file the daemon would refuse: say why instead (e.g. an unknown group or budget).
  const checked = parseConfigText(text);
  if (!checked.ok) return { ok: false, message: formatProblems(file, checked.problems) };
  await writeFileAtomic(file, text, (await stat(file)).mode & 0o777);
  return { ok: true };
}

export function budgetLimitEdit(budget: string, limitUsd: number): ConfigEdit {
  return { path: ['budgets', budget, 'limitUsd'], value: limitUsd };
}

/** No group: the default for every group (routing.strategy); a group: its own override. */
export function strategyEdit(strategy: string, group?: string): ConfigEdit {
  return group === undefined ? { path: ['routing', 'strategy'], value: strategy } : { path: ['models', group, 'strategy'], value: strategy };
}
