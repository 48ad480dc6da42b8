// The daemon's version: injected by esbuild from package.json; read from it when run unbundled (tests).
declare const SHEPHERD_VERSION: string | undefined;

export const VERSION: string =
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only unbundled; the bundle never reads package.json
  typeof SHEPHERD_VERSION === 'string' ? SHEPHERD_VERSION : (require('../../package.json') as { version: string }).version;
