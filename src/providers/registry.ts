// The node providers Lapis can run, by name. Adding a provider is one folder
// under providers/ and one line here.

import type { NodeEvents, NodeProvider } from '../core/ports.js';
import { LocalNodeProvider, type LocalNodeProviderOptions } from './local/local-node-provider.js';

export type ProviderFactory = (events: NodeEvents, options: LocalNodeProviderOptions) => NodeProvider;

export const nodeProviders: Record<string, ProviderFactory> = {
  local: (events, options) => new LocalNodeProvider(events, options),
};
