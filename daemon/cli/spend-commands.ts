// The `spend` and `export` subcommands: flags in, report or export out. Bad flags throw the caller's
// usage error (exit 2) with a message that names the flag.
import { parseArgs } from 'node:util';
import { configPathFor, resolveDataDir } from '../config/paths';
import { loadConfigFile } from '../config/load';
import { parseSpendQuery, reportContext, type SpendQuery } from '../spend/spend-query';
import { teamSpendReport } from '../spend/team-spend';
import { withTeamReader } from './team';
import { formatCascade } from './cascade-format';
import { formatSpend, SPEND_FORMATS, type SpendFormat } from './spend-format';
import { EXPORT_FORMATS, exportLedger, spendFromDaemon, spendFromLedger, type ExportFormat } from './spend';

export const SPEND_USAGE = `  shepherd spend [--from DAY] [--to DAY] [--by model|deployment|provider|day|key|member|escalation] [--format table|csv|json]
                 [--team] [--data-dir DIR] [--config FILE]   spend this month (or from..to, UTC days YYYY-MM-DD);
                                             --by escalation: the cascade's escalations, checks and saving by day;
                                             --team: the whole team's, from the team ledger in PostgreSQL
  shepherd export [--from DAY] [--to DAY] [--format csv|json] [--out FILE] [--team] [--data-dir DIR] [--config FILE]
                                             write ledger entries as CSV or JSON (--team: the team's)`;

type MakeUsageError = (message: string) => Error;

export async function spendCommand(args: string[], usage: MakeUsageError): Promise<number> {
  const values = flags(args, usage, {
    from: { type: 'string' },
    to: { type: 'string' },
    by: { type: 'string' },
    format: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    team: { type: 'boolean' },
  });
  const format = oneOf(values.format ?? 'table', SPEND_FORMATS, '--format', usage);
  const now = Date.now();
  let query;
  try {
    const by = values.by === 'escalation' ? 'day' : values.by;
    query = parseSpendQuery((name) => (name === 'groupBy' ? by : values[name]), now, { from: '--from', to: '--to', groupBy: '--by' });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const dataDir = resolveDataDir(values['data-dir']);
  const warn = (m: string) => process.stderr.write(`shepherd: ${m}\n`);
  const configPath = values.config ?? configPathFor(dataDir);
  const report = values.team
    ? ((await spendFromDaemon(dataDir, query, 3_000, 'team')) ?? (await teamSpendDirect(configPath, query, now)))
    : ((await spendFromDaemon(dataDir, query)) ?? (await spendFromLedger(dataDir, configPath, query, now, warn)));
  if (values.by === 'escalation') process.stdout.write(formatCascade(report.cascade, format as SpendFormat, query));
  else process.stdout.write(formatSpend(report, format as SpendFormat));
  return 0;
}

export async function exportCommand(args: string[], usage: MakeUsageError): Promise<number> {
  const values = flags(args, usage, {
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    team: { type: 'boolean' },
  });
  const format = oneOf(values.format ?? 'csv', EXPORT_FORMATS, '--format', usage) as ExportFormat;
  for (const flag of ['from', 'to'] as const) {
    const v = values[flag];
    if (v !== undefined) {
      try {
        parseSpendQuery((name) => (name === 'from' || name === 'to' ? v : undefined), Date.now(), { from: `--${flag}`, to: `--${flag}`, groupBy: '--by' });
      } catch (err) {
        throw usage(err instanceof Error ? err.message : String(err));
      }
    }
  }
  if (values.from !== undefined && values.to !== undefined && values.from > values.to) throw usage(`--from (${values.from}) is after --to (${values.to})`);
  const warn = (m: string) => process.stderr.write(`shepherd: ${m}\n`);
  const dataDir = resolveDataDir(values['data-dir']);
  const range = { from: values.from, to: values.to };
  let count: number;
  if (values.team) {
    count = await withTeamReader(values.config ?? configPathFor(dataDir), (reader) =>
      exportLedger(dataDir, range, format, values.out, warn, (r, onEntry) => reader.entries(r, onEntry)),
    );
  } else {
    count = await exportLedger(dataDir, range, format, values.out, warn);
  }
  if (values.out !== undefined) process.stderr.write(`wrote ${count} ledger entries to ${values.out}\n`);
  return 0;
}

/** The team's spend straight from PostgreSQL, when no daemon answers. */
async function teamSpendDirect(configPath: string, query: SpendQuery, now: number) {
  const loaded = await loadConfigFile(configPath);
  return withTeamReader(configPath, (reader) =>
    teamSpendReport(reader, query, loaded.ok ? reportContext(loaded.config, now) : { now, currency: { code: 'USD', rate: 1 } }),
  );
}

function flags<O extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], usage: MakeUsageError, options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
}

function oneOf(value: string, allowed: readonly string[], flag: string, usage: MakeUsageError): string {
  if (!allowed.includes(value)) throw usage(`${flag} must be ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}, not "${value}"`);
  return value;
}
