// `shepherd team check` and `shepherd team migrate`, and the team ledger for `spend --team` and
// `export --team` when no daemon answers. The Redis and PostgreSQL work is in dist/team.js, loaded
// here only for these commands.
import { parseArgs } from 'node:util';
import type { TeamConfig } from '../../shared/team-config';
import { configPathFor, resolveDataDir } from '../config/paths';
import { formatProblems, loadConfigFile } from '../config/load';
import { defaultMember } from '../lifecycle/compose';
import { loadTeamModule } from '../lifecycle/team-ledger';

export const TEAM_USAGE = `  shepherd team check [--config FILE] [--data-dir DIR]
                                             connect to the team's Redis and PostgreSQL; say what the daemon would do
  shepherd team migrate [--config FILE] [--data-dir DIR]
                                             create or migrate the team ledger table in PostgreSQL`;

type MakeUsageError = (message: string) => Error;

/** The config's team section; an Error (exit 1) that says what is missing otherwise. */
export async function teamConfigAt(configPath: string): Promise<TeamConfig> {
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) throw new TeamCommandError(formatProblems(configPath, loaded.problems));
  if (!loaded.config.team) throw new TeamCommandError(`${configPath}: no "team" section (team mode is off; see docs/CONFIG.md#team-mode)`);
  return loaded.config.team;
}

export class TeamCommandError extends Error {}

export async function teamCommand(args: string[], usage: MakeUsageError): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check' && sub !== 'migrate') throw usage(sub === undefined ? 'team needs "check" or "migrate"' : `unknown team command "${sub}"`);
  let values: { config?: string; 'data-dir'?: string };
  try {
    values = parseArgs({ args: rest, options: { config: { type: 'string' }, 'data-dir': { type: 'string' } }, strict: true }).values;
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const dataDir = resolveDataDir(values['data-dir']);
  const configPath = values.config ?? configPathFor(dataDir);
  try {
    const team = await teamConfigAt(configPath);
    const mod = loadTeamModule();
    if (sub === 'migrate') {
      const { table, applied } = await mod.teamMigrate(team, process.env);
      if (applied.length === 0) process.stdout.write(`${table}: up to date, no migration to apply\n`);
      for (const a of applied) process.stdout.write(`${table}: applied migration ${a.version}: ${a.name}\n`);
      return 0;
    }
    const lines = await mod.teamCheck(team, { env: process.env, dataDir, member: team.member ?? defaultMember() });
    for (const line of lines) (line.ok ? process.stdout : process.stderr).write(`${line.ok ? '' : 'FAILED '}${line.text}\n`);
    const failed = lines.filter((l) => !l.ok).length;
    process.stdout.write(failed === 0 ? 'team check: ok\n' : '');
    if (failed > 0) process.stderr.write(`team check: ${failed} problem(s)\n`);
    return failed === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`shepherd team ${sub}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** The team ledger read directly (no daemon answered): the config's team section and environment. */
export async function teamReader(configPath: string) {
  const team = await teamConfigAt(configPath);
  try {
    return loadTeamModule().openTeamReader(team, process.env);
  } catch (err) {
    throw new TeamCommandError(err instanceof Error ? err.message : String(err));
  }
}

/** Runs `read` against the team ledger, turning a server's refusal into a TeamCommandError that names the field. */
export async function withTeamReader<T>(configPath: string, read: (reader: Awaited<ReturnType<typeof teamReader>>) => Promise<T>): Promise<T> {
  const reader = await teamReader(configPath);
  try {
    return await read(reader);
  } catch (err) {
    throw new TeamCommandError(`the team ledger (team.postgres in ${configPath}) did not answer: ${err instanceof Error ? err.message || String((err as NodeJS.ErrnoException).code) : String(err)}`);
  } finally {
    await reader.close().catch(() => undefined);
  }
}
