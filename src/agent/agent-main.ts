// The agent's program: what the agent bundle runs (providers/local/agent-program.ts).

import { readSettings, runAgent } from './agent-process.js';

try {
  await runAgent(await readSettings());
} catch (error) {
  process.stderr.write(`lapis agent: ${(error as Error).message}\n`);
  process.exit(1);
}
