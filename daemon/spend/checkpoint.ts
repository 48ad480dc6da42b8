// The checkpoint of an open ledger month: its tally (month-tally.ts) as of a byte offset in its file,
// so start-up restores the tally and parses only the lines after the offset. This module is the pure
// part: the format, and whether a checkpoint may be trusted. File access is in checkpoints.ts.
//
// A checkpoint is trusted only when the file still holds, up to the offset, the bytes it was made
// from: at least that long, the offset at a line end, and the same first and last WINDOW bytes
// before the offset (hashed). The ledger only ever appends, so that catches a file truncated, torn
// by a power loss and appended to again, replaced or edited near its end; anything else falls back to
// a full parse of the month, which costs time, never correctness of what was trusted before.
import { ledgerEntryProblem } from './ledger-entry';
import { RECENT_KEPT, type MonthState } from './month-tally';
import type { Bucket, Counts } from './spend-index';

/** Bump when the format or the meaning of a tally changes: older checkpoints are then not used. */
// 2: sandbox entries have buckets of their own and are left out of the groups.
export const CHECKPOINT_VERSION = 2;
/** Bytes hashed at each end of the covered part of the file. */
export const WINDOW = 4096;

/** Where a checkpoint stands in its month file. */
export interface FileMark {
  /** Bytes covered. */
  offset: number;
  /** Newlines in those bytes, so warnings about later lines carry their real line numbers. */
  lines: number;
}

/** What start-up reads back from the file to check a checkpoint (see checkpoints.ts probeFile). */
export interface FileProbe {
  size: number;
  /** SHA-256 (hex) of the file's bytes in the head and tail windows of the offset; absent when the file is shorter. */
  head?: string;
  tail?: string;
  /** The byte before the offset is '\n' (or the offset is 0). */
  atLineEnd: boolean;
}

export interface Checkpoint extends FileMark, MonthState {
  version: number;
  month: string;
  head: string;
  tail: string;
}

/** The byte ranges [start, end) hashed for a checkpoint at `offset`. */
export function windows(offset: number): { head: [number, number]; tail: [number, number] } {
  return { head: [0, Math.min(WINDOW, offset)], tail: [Math.max(0, offset - WINDOW), offset] };
}

export function encodeCheckpoint(month: string, mark: FileMark, state: MonthState, probe: FileProbe): string {
  if (probe.head === undefined || probe.tail === undefined) throw new Error('the file is shorter than the checkpoint');
  const checkpoint: Checkpoint = { version: CHECKPOINT_VERSION, month, ...mark, head: probe.head, tail: probe.tail, ...state };
  return JSON.stringify(checkpoint);
}

/** Parses a checkpoint file's text; every field is checked, since a wrong tally would be counted silently. */
export function decodeCheckpoint(text: string, month: string): { checkpoint: Checkpoint } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null) return { problem: 'not a JSON object' };
  const c = value as Partial<Record<keyof Checkpoint, unknown>>;
  if (c.version !== CHECKPOINT_VERSION) return { problem: `format version ${String(c.version)}, this daemon uses ${CHECKPOINT_VERSION}` };
  if (c.month !== month) return { problem: `made for month ${String(c.month)}` };
  for (const field of ['offset', 'lines', 'entries', 'skipped'] as const) {
    if (!isCount(c[field])) return { problem: `${field} is not a count` };
  }
  if (!isHash(c.head) || !isHash(c.tail)) return { problem: 'head or tail is not a SHA-256' };
  if (!Array.isArray(c.buckets) || !c.buckets.every(isBucket)) return { problem: 'buckets are malformed' };
  if (!Array.isArray(c.groups) || !c.groups.every(isGroup)) return { problem: 'groups are malformed' };
  if (!Array.isArray(c.recent) || c.recent.length > RECENT_KEPT || !c.recent.every((e) => ledgerEntryProblem(e) === undefined)) {
    return { problem: 'recent entries are malformed' };
  }
  const checkpoint = c as Checkpoint;
  // Three views of the same entries must agree.
  const inBuckets = sum(checkpoint.buckets.map((b) => b.requests));
  const inGroups = sum(checkpoint.groups.map(([, g]) => g.requests));
  const inSandbox = sum(checkpoint.buckets.map((b) => (b.sandbox ? b.requests : 0))); // the groups leave them out
  if (inBuckets !== checkpoint.entries || inGroups + inSandbox !== checkpoint.entries) return { problem: 'its counts do not add up' };
  if (checkpoint.recent.length !== Math.min(RECENT_KEPT, checkpoint.entries)) return { problem: 'recent entries are missing' };
  return { checkpoint };
}

/** Why the month file no longer matches the checkpoint, or undefined when the checkpoint may be used. */
export function checkpointMismatch(checkpoint: FileMark & { head: string; tail: string }, file: FileProbe): string | undefined {
  if (file.size < checkpoint.offset) return `the file (${file.size} bytes) is shorter than the checkpoint (${checkpoint.offset})`;
  if (!file.atLineEnd) return 'the checkpoint does not end at a line end of the file';
  if (file.head !== checkpoint.head || file.tail !== checkpoint.tail) return 'the file changed before the checkpoint offset';
  return undefined;
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isHash(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}

function isNameOrNull(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

function isCounts(v: unknown): v is Counts {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<keyof Counts, unknown>;
  // Written before cache writes were counted: none then.
  if (c.cacheWriteTokens === undefined) c.cacheWriteTokens = 0;
  return isCount(c.cacheWriteTokens) && isCount(c.requests) && isCount(c.errors) && isCount(c.promptTokens) && isCount(c.cachedTokens) && isCount(c.completionTokens) &&
    isCount(c.reasoningTokens) && isCount(c.estimated) && isCount(c.units);
}

function isBucket(v: unknown): v is Bucket {
  if (!isCounts(v)) return false;
  const b = v as unknown as Record<keyof Bucket, unknown>;
  return typeof b.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.day) && isNameOrNull(b.model) && isNameOrNull(b.deployment) &&
    isNameOrNull(b.provider) && isNameOrNull(b.key) && (b.member === undefined || isNameOrNull(b.member)) && (b.sandbox === undefined || b.sandbox === true);
}

function isGroup(v: unknown): v is [string, Counts] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && isCounts(v[1]);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
