// The first step of a start: every address Lapis will listen on is tried
// before the data directory is touched, so a start that cannot listen leaves
// nothing behind, and all the clashes are reported at once, each with the
// flag that moves its endpoint. The trial listeners close again at once: the
// endpoints themselves listen moments later, once the server is built.

import net from 'node:net';
import { azuriteAnswersAt } from '../blob/embedded-blob-server.js';

export interface Endpoint {
  /** What listens there, as the error names it. */
  name: string;
  host: string;
  port: number;
  /** The flag that moves it. */
  flag: string;
  /** The blob endpoint: a clash there may be Azurite, which Lapis can use instead (--blob-endpoint). */
  blob?: boolean;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function tryListen(host: string, port: number): Promise<net.Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

async function inUse(endpoint: Endpoint): Promise<string> {
  const where = `${urlHost(endpoint.host)}:${endpoint.port}`;
  const move = `move it with ${endpoint.flag} <port> (0 picks a free port)`;
  if (!endpoint.blob) return `Port ${endpoint.port} of ${endpoint.name} is in use on ${endpoint.host}: ${move}.`;
  if (await azuriteAnswersAt(`http://${where}/`)) {
    return (
      `Port ${endpoint.port} of ${endpoint.name} is in use on ${endpoint.host} by a running Azurite (or another Lapis's blob endpoint). ` +
      `Use it with --blob-endpoint http://${where}/devstoreaccount1, or ${move}.`
    );
  }
  return `Port ${endpoint.port} of ${endpoint.name} is in use on ${endpoint.host}: ${move}, or use the blob endpoint listening there with --blob-endpoint <url>.`;
}

async function explain(endpoint: Endpoint, error: NodeJS.ErrnoException, all: readonly Endpoint[]): Promise<string> {
  if (error.code === 'EADDRINUSE') {
    const twin = all.find((other) => other !== endpoint && other.port === endpoint.port && other.port !== 0);
    if (twin) return `${twin.flag} and ${endpoint.flag} are both ${endpoint.port}: give ${endpoint.name} another port with ${endpoint.flag} <port>.`;
    return inUse(endpoint);
  }
  if (error.code === 'EACCES') {
    return `Port ${endpoint.port} of ${endpoint.name} needs privileges this user lacks: choose a port above 1023 with ${endpoint.flag} <port>.`;
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return `${capitalized(endpoint.name)} cannot listen on ${endpoint.host}, which is not an address of this machine: change --host.`;
  }
  return `${capitalized(endpoint.name)} cannot listen on ${urlHost(endpoint.host)}:${endpoint.port} (${error.message}): change ${endpoint.flag} or --host.`;
}

/** Throws, naming every endpoint that cannot listen and the flag to change for each, unless all of them can. */
export async function checkEndpointsCanListen(endpoints: readonly Endpoint[]): Promise<void> {
  const held: net.Server[] = [];
  const problems: string[] = [];
  try {
    for (const endpoint of endpoints) {
      const result = await tryListen(endpoint.host, endpoint.port);
      if (result instanceof net.Server) held.push(result);
      else problems.push(await explain(endpoint, result, endpoints));
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1) throw new Error(`Lapis cannot listen:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
}
