// The daemon's configuration as one request sees it: the file's config (or its sandbox twin), the
// catalog built from it, and what the HTTP guard needs. Built on each (re)load and swapped whole, so a
// request that takes it when it arrives uses one config from its first attempt to its last.
import type { ShepherdConfig } from '../../shared/config';
import type { Catalog } from '../routing/catalog';
import type { DistanceTable } from '../routing/regions';

export interface ConfigSnapshot {
  config: ShepherdConfig;
  catalog: Catalog;
  sandbox: boolean;
  /** Local API keys clients must present; empty = none required. */
  clientKeys: string[];
  /** Team mode: which member each local API key (by label) belongs to. */
  memberKeys: ReadonlyMap<string, string>;
  /** Team mode: the member this daemon's own requests (no member key) belong to; undefined in local mode. */
  member: string | undefined;
  /** Region distances for the geographic strategy (built-in table + routing.regionDistances). */
  distances: DistanceTable;
}
