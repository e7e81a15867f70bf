// The agent protocol: what a node's agent (`lapis agent`) and the server say
// to each other over one WebSocket (docs/agent-protocol.md). The agent
// connects; after that either side may ask (a request answered by a reply
// with the same id) or tell (a notice, never answered). Nothing here names
// a Batch account key: an agent holds only its own node's credential.

import type { NodeContainerImages } from '../../core/container-settings.js';
import type { ComputeNodeError } from '../../core/node-start-failure.js';
import type { NodeUsageSample } from '../../core/node-usage.js';
import type { TaskFailureInfo } from '../../core/common.js';
import type { ByteRange, NodeFileEntry, NodeUserAccount, OsAccount, ReportedRun, TaskRun, TaskRunRef, TaskRunReport } from '../../core/ports.js';

export const AGENT_PROTOCOL_VERSION = 1;
/** Where agents connect, on the endpoint their provider gives them. */
export const AGENT_PATH = '/lapis/agent/v1';
/** The scheme of the Authorization header an agent connects with: `LapisNode <nodeId>:<credential>`. */
export const AGENT_AUTH_SCHEME = 'LapisNode';

/** What the server asks of an agent. */
export type ServerRequest =
  /** `containerImages`: the pool's images, checked (pulled when missing) before the node is ready. */
  | { op: 'prepare'; containerImages?: NodeContainerImages }
  | { op: 'stop'; run: TaskRunRef }
  | { op: 'restart'; wipe: boolean; containerImages?: NodeContainerImages }
  /** Ends every process and removes the node's files; the agent exits after its reply. */
  | { op: 'destroy' }
  /** Ends every process and keeps the files; the agent exits after its reply. */
  | { op: 'shutdown' }
  | { op: 'files.stat'; path: string }
  | { op: 'files.list'; path: string; recursive: boolean }
  /** Answered by the entry, then the content as binary frames, then an `end` frame. */
  | { op: 'files.read'; path: string; range?: ByteRange }
  | { op: 'files.delete'; path: string; recursive: boolean };

/** What an agent asks of the server: the OS accounts of its node, made on the host that runs it, and the application packages its runs name. */
export type AgentRequest =
  | { op: 'accounts.ensure'; user: NodeUserAccount }
  | { op: 'accounts.autoUser'; slot: string }
  | { op: 'accounts.poolGroup' }
  /**
   * The files of an application package a run sent to this node names (by its
   * `directory`): answered by a PackageManifest, then every file's content in
   * the manifest's order as binary frames, then an `end` frame.
   */
  | { op: 'packages.read'; directory: string }
  /**
   * Container nodes: start the container of a container run the server sent
   * to this node (named, never described: the host takes the image, command
   * line, directories and registry from its own record of the run), beside
   * the node; answered when it has ended. Asked again after a reconnect, it
   * answers the same container's end.
   */
  | { op: 'container.run'; run: ReportedRun; owner?: ContainerRunOwner; environment: Record<string, string> };

export type ContainerRunRequest = Extract<AgentRequest, { op: 'container.run' }>;

/** Whom a container run runs as: ids of the node's own accounts, as the node knows them. */
export interface ContainerRunOwner {
  uid: number;
  gid: number;
  groups?: number[];
}

/** How a container run beside its node ended: its process's exit, or Batch's failure for why it could not run. */
export type ContainerRunReply =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }
  | { kind: 'failed'; failureInfo: TaskFailureInfo };

/** One entry of a package, its path relative to the package's directory ('/'-separated, no '..'). */
export type PackageEntry =
  | { path: string; kind: 'directory'; mode: number }
  | { path: string; kind: 'file'; mode: number; size: number }
  | { path: string; kind: 'symlink'; target: string };

export interface PackageManifest {
  entries: PackageEntry[];
}

/** A report the agent keeps until the server acknowledges its sequence number. */
export interface SequencedReport {
  seq: number;
  report: TaskRunReport;
}

/** Every text frame, either way. */
export type Frame =
  | { type: 'request'; id: number; body: ServerRequest | AgentRequest }
  | { type: 'reply'; id: number; value?: unknown; error?: WireError }
  /**
   * Server → agent: start one attempt of a run (no reply: its end comes as a
   * report). `serverTime` (ms since the epoch) keeps the times the agent
   * reports in step with the server's clock, whatever the host's says.
   */
  | { type: 'run'; run: TaskRun; serverTime: number }
  /** Agent → server, at the heartbeat interval; every few seconds with the node's usage since its previous sample. */
  | { type: 'heartbeat'; sample?: NodeUsageSample }
  /**
   * Agent → server: runs that ended. `session` names the agent process that
   * numbered them; `ackedBelow` says every seq below it was acknowledged, so
   * the server can forget them. Sent again after a reconnect until acknowledged.
   */
  | { type: 'reports'; session: string; ackedBelow: number; reports: SequencedReport[] }
  /** Server → agent: these reports are recorded (or were already). */
  | { type: 'ack'; seqs: number[] }
  /** The end of a streamed reply (files.read), or its failure. */
  | { type: 'end'; id: number; error?: WireError };

/** An error as it crosses the wire: a Batch error keeps its code and kind, a node's start failure its ComputeNodeError. */
export interface WireError {
  message: string;
  batch?: { code: string; kind: string; values: { key: string; value: string }[] };
  nodeError?: ComputeNodeError;
}

/** A NodeFileEntry with its dates as ISO strings. */
export type WireFileEntry = Omit<NodeFileEntry, 'creationTime' | 'lastModified'> & { creationTime: string; lastModified: string };

export function toWireEntry(entry: NodeFileEntry): WireFileEntry {
  return { ...entry, creationTime: entry.creationTime.toISOString(), lastModified: entry.lastModified.toISOString() };
}

export function fromWireEntry(entry: WireFileEntry): NodeFileEntry {
  return { ...entry, creationTime: new Date(entry.creationTime), lastModified: new Date(entry.lastModified) };
}

/** The answer to `files.read` before its content frames. */
export interface ReadReply {
  entry: WireFileEntry;
  length: number;
}

export type AccountReply = OsAccount;
