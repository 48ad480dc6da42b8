// Shepherd's models as VS Code's language model API lists them: every model group, then `auto` and
// each `auto:<profile>`, named with their price and health, limits and capabilities from the config.
// Pure: the objects have the shape of vscode.LanguageModelChatInformation without importing vscode.
import type { GroupSnapshot, Snapshot } from '../shared/protocol';
import { formatMoney, type DisplayCurrency } from './format';
import { isUp } from './status';

export interface LmModelInfo {
  /** What the request sends as its model: a group name, "auto" or "auto:<profile>". */
  readonly id: string;
  readonly name: string;
  readonly family: string;
  readonly version: string;
  readonly tooltip: string;
  readonly detail: string;
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;
  readonly capabilities: { readonly toolCalling: boolean; readonly imageInput: boolean };
}

/**
 * Used when the config does not say (see ModelGroupSchema.contextWindow): small enough that callers
 * trim long prompts rather than send what most models refuse, large enough for real work.
 */
export const DEFAULT_CONTEXT_WINDOW = 128_000;
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

interface Limits {
  contextWindow: number;
  maxOutputTokens: number;
  tools: boolean;
  images: boolean;
}

/** Unknown capabilities count as absent: a caller that needs tools must not get a model that may lack them. */
function limitsOf(g: GroupSnapshot): Limits {
  return {
    contextWindow: g.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    maxOutputTokens: g.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    tools: g.capabilities?.tools === true,
    images: g.capabilities?.images === true,
  };
}

/** The prompt may use what the answer does not: the context window less the longest answer. */
function tokens(l: Limits): { maxInputTokens: number; maxOutputTokens: number } {
  const maxOutputTokens = Math.min(l.maxOutputTokens, l.contextWindow);
  const room = l.contextWindow - maxOutputTokens;
  return { maxInputTokens: room > 0 ? room : l.contextWindow, maxOutputTokens };
}

export function lmModels(snapshot: Snapshot | undefined, currency: DisplayCurrency): LmModelInfo[] {
  if (!snapshot) return [];
  const version = snapshot.version;
  const sandbox = snapshot.sandbox ? ' [sandbox]' : '';
  const groups = new Map(snapshot.groups.map((g) => [g.name, g]));
  const models: LmModelInfo[] = [];
  for (const g of snapshot.groups) {
    if (g.kind === 'embedding') continue; // not a chat model: a chat request to it could only fail
    const l = limitsOf(g);
    const health = groupHealth(snapshot, g);
    const price = priceText(g, currency);
    models.push({
      id: g.name,
      name: `${g.name} (${price ?? 'price not set'})${health.down ? ' - down' : ''}`,
      family: g.name,
      version,
      detail: `Shepherd${sandbox} · ${health.text}`,
      tooltip: [
        `Model group "${g.name}" routed by Shepherd${g.strategy ? ` (${g.strategy})` : ''}${sandbox}.`,
        price ? `Price: ${price} per 1M tokens.` : 'No price configured: spend shows as $0.',
        `Health: ${health.text}.`,
        `Context ${l.contextWindow.toLocaleString('en-US')} tokens, answers up to ${l.maxOutputTokens.toLocaleString('en-US')}.`,
      ].join('\n'),
      ...tokens(l),
      capabilities: { toolCalling: l.tools, imageInput: l.images },
    });
  }
  for (const auto of snapshot.auto ?? []) {
    const targets = [...new Set(Object.values(auto.tiers))].map((name) => groups.get(name)).filter((g): g is GroupSnapshot => g !== undefined);
    if (targets.length === 0) continue;
    // Any tier may answer, so auto promises only what every tier's group does.
    const all = targets.map(limitsOf);
    const l: Limits = {
      contextWindow: Math.min(...all.map((x) => x.contextWindow)),
      maxOutputTokens: Math.min(...all.map((x) => x.maxOutputTokens)),
      tools: all.every((x) => x.tools),
      images: all.every((x) => x.images),
    };
    const outputs = targets.map((g) => g.price?.output).filter((p): p is number => p !== undefined);
    const range = outputs.length > 0 ? `${formatMoney(Math.min(...outputs), currency)}-${formatMoney(Math.max(...outputs), currency)} out per 1M` : 'price varies';
    const down = targets.every((g) => groupHealth(snapshot, g).down);
    const tiers = Object.entries(auto.tiers).map(([tier, group]) => `${tier} → ${group}`).join(', ');
    models.push({
      id: auto.name,
      name: `${auto.name} (${range})${down ? ' - down' : ''}`,
      family: auto.name,
      version,
      detail: `Shepherd${sandbox} · picks by complexity`,
      tooltip: `Shepherd picks the model group for each request by its complexity: ${tiers}.${sandbox}`,
      ...tokens(l),
      capabilities: { toolCalling: l.tools, imageInput: l.images },
    });
  }
  return models;
}

function priceText(g: GroupSnapshot, currency: DisplayCurrency): string | undefined {
  const p = g.price;
  if (!p || p.input === undefined || p.output === undefined) return undefined;
  return `${formatMoney(p.input, currency)} in / ${formatMoney(p.output, currency)} out`;
}

function groupHealth(s: Snapshot, g: GroupSnapshot): { down: boolean; text: string } {
  const usable = s.deployments.filter((d) => d.group === g.name && d.available);
  const up = usable.filter(isUp).length;
  if (g.down || usable.length === 0) return { down: true, text: 'down: no deployment is taking traffic' };
  return { down: false, text: `${up}/${usable.length} deployments healthy` };
}

/** What identifies the list: VS Code is told about a change only when this differs. */
export function lmModelsKey(models: readonly LmModelInfo[]): string {
  return JSON.stringify(models);
}
