// The model picker for selection commands: `auto` first, then every group with its price and health.
// Pure: returns plain items the vscode side shows in a QuickPick.
import type { Snapshot } from '../shared/protocol';
import { formatMoney, type DisplayCurrency } from './format';
import { isUp } from './status';

export interface ModelPick {
  /** What is sent as the chat's model: a group name or "auto". */
  model: string;
  label: string;
  description: string;
  detail: string;
}

export const AUTO = 'auto';

export function modelPicks(snapshot: Snapshot | undefined, currency: DisplayCurrency, current: string): ModelPick[] {
  const mark = (model: string) => (model === current ? ' (current)' : '');
  const picks: ModelPick[] = [
    { model: AUTO, label: `$(sparkle) auto${mark(AUTO)}`, description: 'Shepherd picks the model for each request', detail: 'Routing policy from the daemon config (routing.auto)' },
  ];
  for (const g of snapshot?.groups ?? []) {
    const deployments = (snapshot?.deployments ?? []).filter((d) => d.group === g.name);
    const usable = deployments.filter((d) => d.available);
    const up = usable.filter(isUp).length;
    const icon = g.down ? '$(error)' : up < usable.length ? '$(warning)' : '$(pass)';
    const price = g.price && g.price.input !== undefined && g.price.output !== undefined
      ? `${formatMoney(g.price.input, currency)} in / ${formatMoney(g.price.output, currency)} out per 1M tokens`
      : 'price not configured';
    picks.push({
      model: g.name,
      label: `${icon} ${g.name}${mark(g.name)}`,
      description: price,
      detail: g.down ? 'down: no deployment is taking traffic' : `${up}/${usable.length} deployments healthy${g.strategy ? ` · ${g.strategy}` : ''}`,
    });
  }
  return picks;
}
