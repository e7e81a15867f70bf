// The node providers Lapis can run, by --node-runtime. Adding a provider is
// one folder under providers/ and one line here.

import type { NodeEvents, NodeProvider } from '../core/ports.js';
import { containerNodeProvider, type ContainerNodeOptions } from './container/container-node-provider.js';
import { LocalNodeProvider, type LocalNodeProviderOptions } from './local/local-node-provider.js';

export type ProviderOptions = LocalNodeProviderOptions & { container: ContainerNodeOptions };
export type ProviderFactory = (events: NodeEvents, options: ProviderOptions) => NodeProvider;

export const nodeProviders: Record<'process' | 'container', ProviderFactory> = {
  process: (events, options) => new LocalNodeProvider(events, options),
  container: (events, options) => containerNodeProvider(events, options, options.container),
};
