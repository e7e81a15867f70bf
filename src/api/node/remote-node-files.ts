// A node's files as the file API sees them, through the node's agent: the
// server never opens a node's file system itself. The agent confines every
// path to its node (agent/node-files.ts).

import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../../core/ports.js';
import type { AgentPeer } from './peer.js';
import { fromWireEntry, type ReadReply, type WireFileEntry } from './protocol.js';

export class RemoteNodeFiles implements NodeFileSystem {
  constructor(private readonly peer: AgentPeer) {}

  async stat(path: string): Promise<NodeFileEntry | undefined> {
    const entry = await this.peer.request<WireFileEntry | null>({ op: 'files.stat', path });
    return entry ? fromWireEntry(entry) : undefined;
  }

  async list(path: string, recursive: boolean): Promise<NodeFileEntry[]> {
    const entries = await this.peer.request<WireFileEntry[]>({ op: 'files.list', path, recursive });
    return entries.map(fromWireEntry);
  }

  async read(path: string, range?: ByteRange) {
    const { value, content } = await this.peer.requestStream<ReadReply>({ op: 'files.read', path, ...(range ? { range } : {}) });
    return { entry: fromWireEntry(value.entry), content, length: value.length };
  }

  delete(path: string, recursive: boolean): Promise<void> {
    return this.peer.request<void>({ op: 'files.delete', path, recursive });
  }
}
