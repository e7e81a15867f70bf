// A node's files while its agent is starting (a server that has just
// restarted re-provisions its nodes): each call waits for the agent's
// connection instead of answering that the node is not there.

import { batchErrors } from '../../core/errors.js';
import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../../core/ports.js';

export class AwaitedNodeFiles implements NodeFileSystem {
  constructor(private readonly files: Promise<NodeFileSystem>) {}

  private async ready(): Promise<NodeFileSystem> {
    try {
      return await this.files;
    } catch {
      // The agent did not come up: the node cannot serve files now.
      throw batchErrors.nodeNotReady();
    }
  }

  async stat(path: string): Promise<NodeFileEntry | undefined> {
    return (await this.ready()).stat(path);
  }

  async list(path: string, recursive: boolean): Promise<NodeFileEntry[]> {
    return (await this.ready()).list(path, recursive);
  }

  async read(path: string, range?: ByteRange) {
    return (await this.ready()).read(path, range);
  }

  async delete(path: string, recursive: boolean): Promise<void> {
    return (await this.ready()).delete(path, recursive);
  }
}
