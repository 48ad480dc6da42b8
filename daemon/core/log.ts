// A small levelled logger for the daemon. Lines go to stderr (stdout carries the CLI's own output),
// as text for people or as JSON lines with SHEPHERD_LOG_FORMAT=json. Callers never pass keys or
// prompt bodies.

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Fields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function createLogger(options: {
  level?: Level;
  json?: boolean;
  write?: (line: string) => void;
} = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const json = options.json ?? false;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (json) {
      write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
    }
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function formatValue(v: string | number | boolean | null): string {
  return typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v);
}

export function parseLevel(value: string | undefined): Level | undefined {
  return value !== undefined && value in RANK ? (value as Level) : undefined;
}
