// The daemon's version: injected by esbuild from package.json; read from it when run unbundled (tests).
declare const SHEPHERD_VERSION: string | undefined;

export const VERSION: string =
  typeof SHEPHERD_VERSION === 'string' ? SHEPHERD_VERSION : (require('../../package.json') as { version: string }).version;
