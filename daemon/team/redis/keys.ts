// Every Redis key and channel of one team. The team name is a hash tag ({team}): all of a team's keys
// live in one slot, so the Lua scripts that touch several of them also run on Redis Cluster.
export interface TeamKeys {
  /** A budget's counters in one period: spent, and the daemons' leases on what is left. */
  budget(name: string, periodStart: number): BudgetKeys;
  /** Claimed by the one daemon that sends a budget alert. */
  alert(budget: string, periodStart: number, threshold: number): string;
  /** GCRA state (the theoretical arrival time) of a deployment's request and token limits. */
  rate(deployment: string, kind: 'rpm' | 'tpm'): string;
  /** The team's live daemons (sorted set scored by when each heartbeat expires). */
  daemons: string;
  /** Pub/sub channel of health hints. */
  health: string;
}

export interface BudgetKeys {
  spent: string;
  /** The sum of every daemon's hold. */
  reserved: string;
  /** Sorted set: daemon id -> when its hold expires (a daemon that stopped renewing it). */
  holds: string;
  /** Hash: daemon id -> units held (its lease). */
  held: string;
  /** Hash: daemon id -> the last lease sequence whose spend was counted. */
  flushed: string;
}

export function teamKeys(prefix: string, team: string): TeamKeys {
  const base = `${prefix === '' ? '' : `${prefix}:`}{${team}}`;
  return {
    budget(name, periodStart) {
      const b = `${base}:budget:${name}:${new Date(periodStart).toISOString()}`;
      return { spent: `${b}:spent`, reserved: `${b}:reserved`, holds: `${b}:holds`, held: `${b}:held`, flushed: `${b}:flushed` };
    },
    alert: (budget, periodStart, threshold) => `${base}:alert:${budget}|${new Date(periodStart).toISOString()}|${threshold}`,
    rate: (deployment, kind) => `${base}:rate:${deployment}:${kind}`,
    daemons: `${base}:daemons`,
    health: `${base}:health`,
  };
}
