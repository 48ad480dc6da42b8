// The `team` section of the config: several daemons share budgets, rate limits and health through Redis
// and write one ledger to PostgreSQL. Absent means local mode: nothing of team mode loads.
import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits and _)');

/** A server's address: the URL itself, or (better: it usually holds a password) the variable holding it. */
const ServerUrlFields = {
  url: z.string().min(1).optional().describe('The server URL; prefer urlEnv when it holds a password'),
  urlEnv: envName.optional().describe('Environment variable holding the server URL (credentials stay out of the config file)'),
};

export const TeamRedisSchema = z
  .object({
    ...ServerUrlFields,
    keyPrefix: z
      .string()
      .regex(/^[\w:.-]*$/, 'may hold letters, digits and _ : . - only')
      .default('shepherd')
      .describe('Prefix of every Redis key Shepherd writes (the team name follows it)'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(250)
      .describe('Longest a request waits on Redis before going on with local state (team state degraded)'),
  })
  .strict();

export const TeamPostgresSchema = z
  .object({
    ...ServerUrlFields,
    table: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
      .default('shepherd_ledger')
      .describe('The team ledger table (partitioned by month)'),
    batchSize: z.number().int().positive().max(10_000).default(500).describe('Most ledger lines shipped in one statement'),
    flushMs: z.number().int().positive().max(60_000).default(1_000).describe('How often waiting ledger lines are shipped'),
  })
  .strict();

export const TeamMemberSchema = z
  .object({
    apiKeys: z.array(z.string().min(8)).optional().describe("This member's local API keys: requests made with them are recorded as this member's"),
    apiKeysEnv: envName.optional().describe('Environment variable holding a comma-separated list of this member\'s local API keys'),
  })
  .strict();

const memberName = z
  .string()
  .regex(/^[\w.@-]{1,64}$/, 'must be 1 to 64 letters, digits or _ . @ -');

export const TeamSchema = z
  .object({
    name: z
      .string()
      .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits or _ . -')
      .describe('The team: daemons with the same Redis, PostgreSQL and team name share state'),
    member: memberName
      .optional()
      .describe("Who this daemon's own requests belong to (default: the OS user and host, user@host)"),
    redis: TeamRedisSchema.optional().describe('Shared budgets, rate limits and health'),
    postgres: TeamPostgresSchema.optional().describe('One team ledger'),
    members: z
      .record(memberName, TeamMemberSchema)
      .default({})
      .describe('Members who reach this daemon over the network, each with their own local API keys'),
    shareRateLimits: z.boolean().default(true).describe("Count deployments' rpm/tpm in Redis for every daemon of the team"),
    shareHealth: z.boolean().default(true).describe('Tell the other daemons when a deployment is ejected, and hear when they eject one'),
  })
  .strict()
  .superRefine((team, ctx) => {
    for (const server of ['redis', 'postgres'] as const) {
      const s = team[server];
      if (s && s.url === undefined && s.urlEnv === undefined) ctx.addIssue({ code: 'custom', path: [server], message: 'missing: set url or urlEnv' });
      if (s && s.url !== undefined && s.urlEnv !== undefined) ctx.addIssue({ code: 'custom', path: [server], message: 'set url or urlEnv, not both' });
      const problem = s?.url === undefined ? undefined : teamUrlProblem(server, s.url);
      if (problem) ctx.addIssue({ code: 'custom', path: [server, 'url'], message: problem });
    }
    if (!team.redis && !team.postgres) ctx.addIssue({ code: 'custom', path: [], message: 'missing: name a redis server, a postgres server or both' });
  });
export type TeamConfig = z.infer<typeof TeamSchema>;

const SCHEMES = { redis: ['redis:', 'rediss:'], postgres: ['postgres:', 'postgresql:'] } as const;

/** Why a team server URL cannot be used (from the config or from its environment variable), or undefined. */
export function teamUrlProblem(server: 'redis' | 'postgres', url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a URL (expected ${SCHEMES[server][0]}//host:port)`;
  }
  const schemes: readonly string[] = SCHEMES[server];
  if (!schemes.includes(parsed.protocol)) return `must start with ${schemes.map((p) => `${p}//`).join(' or ')}, not ${parsed.protocol}//`;
  return undefined;
}
