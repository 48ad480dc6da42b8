// Approximate distances between common region labels (round-trip milliseconds between typical cloud
// regions, rounded), used by the geographic strategy. Users can add or correct pairs in
// routing.regionDistances. Labels are free-form; unknown pairs sort after known ones.

const BUILT_IN: Record<string, Record<string, number>> = {
  'us-east': { 'us-west': 65, 'us-central': 30, 'ca-central': 20, 'eu-west': 75, 'eu-central': 90, 'ap-northeast': 160, 'ap-southeast': 220, 'sa-east': 120 },
  'us-west': { 'us-central': 40, 'ca-central': 70, 'eu-west': 140, 'eu-central': 150, 'ap-northeast': 105, 'ap-southeast': 170, 'sa-east': 180 },
  'us-central': { 'ca-central': 35, 'eu-west': 105, 'eu-central': 115, 'ap-northeast': 135, 'ap-southeast': 195, 'sa-east': 150 },
  'ca-central': { 'eu-west': 80, 'eu-central': 95, 'ap-northeast': 150, 'ap-southeast': 215, 'sa-east': 130 },
  'eu-west': { 'eu-central': 20, 'ap-northeast': 215, 'ap-southeast': 160, 'sa-east': 185 },
  'eu-central': { 'ap-northeast': 225, 'ap-southeast': 150, 'sa-east': 200 },
  'ap-northeast': { 'ap-southeast': 70, 'sa-east': 255 },
  'ap-southeast': { 'sa-east': 320 },
};

export type DistanceTable = (a: string, b: string) => number | undefined;

/** A symmetric lookup over the built-in table with the user's entries merged over it. */
export function distanceTable(extra: Record<string, Record<string, number>> = {}): DistanceTable {
  const table = new Map<string, number>();
  const put = (a: string, b: string, d: number) => {
    table.set(`${a.toLowerCase()}|${b.toLowerCase()}`, d);
    table.set(`${b.toLowerCase()}|${a.toLowerCase()}`, d);
  };
  for (const source of [BUILT_IN, extra]) {
    for (const [a, row] of Object.entries(source)) for (const [b, d] of Object.entries(row)) put(a, b, d);
  }
  return (a, b) => (a.toLowerCase() === b.toLowerCase() ? 0 : table.get(`${a.toLowerCase()}|${b.toLowerCase()}`));
}
