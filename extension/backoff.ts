// Reconnect delays: exponential from 250 ms to 30 s, with jitter so windows that lost the same daemon
// do not all knock at once. Pure: the random number is passed in.
export function backoffMs(attempt: number, random: number): number {
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.5 + random / 2));
}
