// `lapis agent`: a compute node's agent (agent/agent-process.ts). A provider
// starts it with its settings, one JSON object, on standard input (never
// in argv, which every user of the host can read); `--node` only names the
// node, so that `ps` says which node each agent serves.

import type { Command } from 'commander';

export function addAgentCommand(program: Command): void {
  program
    .command('agent')
    .description("Run one compute node's agent; its settings (docs/agent-protocol.md) are read as one JSON line from standard input.")
    .option('--node <nodeId>', 'the node this agent serves (shown by ps; the settings decide)')
    .action(async () => {
      const { readSettings, runAgent } = await import('../agent/agent-process.js');
      await runAgent(await readSettings());
    });
}
