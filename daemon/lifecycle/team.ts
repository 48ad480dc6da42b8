// Team mode at start: only with a `team` section does this require dist/team.js (../team, bundled
// apart by esbuild.mjs), so a local daemon never loads ioredis or pg. Server URLs come from the config
// or from the environment variable it names; an unset or bad variable stops the start with its name.
// A Redis that cannot be reached does not: the daemon starts on local state ("team state degraded").
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ShepherdConfig } from '../../shared/config';
import { teamUrlProblem } from '../../shared/team-config';
import type * as TeamModule from '../team';
import type { Team, TeamDeps } from '../team';
import { StartError } from './start-error';

export type { Team };

/** Opens team mode, or undefined in local mode (no team section). */
export async function openTeamMode(config: ShepherdConfig, env: NodeJS.ProcessEnv, deps: Omit<TeamDeps, 'config' | 'redisUrl' | 'daemonId'>): Promise<Team | undefined> {
  const team = config.team;
  if (!team) return undefined;
  const redisUrl = team.redis ? serverUrl('redis', team.redis, env) : undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openTeam } = require('../team') as typeof TeamModule;
  const daemonId = `${deps.member}/${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  return openTeam({ ...deps, config: { ...config, team }, redisUrl, daemonId });
}

function serverUrl(server: 'redis' | 'postgres', s: { url?: string; urlEnv?: string }, env: NodeJS.ProcessEnv): string {
  if (s.url !== undefined) return s.url;
  const name = s.urlEnv ?? '';
  const url = env[name]?.trim();
  if (!url) throw new StartError(`team.${server}.urlEnv names the environment variable ${name}, which is not set: set it to the ${server} URL`);
  const problem = teamUrlProblem(server, url);
  if (problem) throw new StartError(`the environment variable ${name} (team.${server}.urlEnv) ${problem}`);
  return url;
}
