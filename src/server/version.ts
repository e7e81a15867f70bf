// Lapis's version, as package.json says (src/ and dist/ sit at the same depth under the package root).

import fs from 'node:fs';

export function lapisVersion(): string {
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
