// The baseline server: the least a Batch-shaped task endpoint must do, run
// side by side with Lapis so that its figures are ratios, not absolute times
// on a noisy machine. node:http + better-sqlite3 (WAL, as Lapis) + spawn; no
// authentication, no validation, no scheduler, one implicit pool of unlimited
// slots. The same @azure/batch client calls work against it:
//   POST /jobs/{job}/addtaskcollection   insert the tasks in one transaction
//   POST /jobs/{job}/tasks               insert one task and start it at once
//   GET  /jobs/{job}/tasks               keyset pages of 1000 by insertion order; $filter=state eq '…'
//   GET  /jobs/{job}/tasks/{task}        one task
//   GET  /jobs/{job}/taskcounts          counts by state
//   GET  /jobs/{job}/tasks/{task}/files/stdout.txt (or stderr.txt)   the task's output
// Started by the bench as `node --import tsx bench/baseline-server.ts --data DIR`;
// prints `Batch URL: …` and `ready` like `lapis serve`.

import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Command } from 'commander';

const program = new Command('baseline-server')
  .requiredOption('--data <dir>', 'data directory')
  .option('--port <port>', 'port', '0')
  .parse(process.argv);
const options = program.opts<{ data: string; port: string }>();

mkdirSync(options.data, { recursive: true });
const db = new Database(path.join(options.data, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (job, id)
  );
  CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks (job, state);
`);
const insert = db.prepare('INSERT OR IGNORE INTO tasks (job, id, state, doc) VALUES (?, ?, ?, ?)');
const update = db.prepare('UPDATE tasks SET state = ?, doc = ? WHERE job = ? AND id = ?');
const getOne = db.prepare('SELECT doc FROM tasks WHERE job = ? AND id = ?');
const page = db.prepare('SELECT seq, doc FROM tasks WHERE job = ? AND seq > ? ORDER BY seq LIMIT ?');
const pageByState = db.prepare('SELECT seq, doc FROM tasks WHERE job = ? AND state = ? AND seq > ? ORDER BY seq LIMIT ?');
const counts = db.prepare('SELECT state, count(*) AS n FROM tasks WHERE job = ? GROUP BY state');

interface TaskDoc {
  id: string;
  commandLine?: string;
  state: string;
  creationTime: string;
  stateTransitionTime: string;
  previousState?: string;
  previousStateTransitionTime?: string;
  executionInfo?: { exitCode?: number; result?: string };
  [key: string]: unknown;
}

const stamp = () => new Date().toISOString();

function newTask(body: Record<string, unknown>): TaskDoc {
  const time = stamp();
  return { ...body, id: String(body.id), state: 'active', creationTime: time, stateTransitionTime: time };
}

const addMany = db.transaction((job: string, docs: TaskDoc[]) => docs.map((doc) => insert.run(job, doc.id, doc.state, JSON.stringify(doc)).changes === 1));

/** Runs a task at once: its own directory with stdout/stderr files, like a node. */
function run(job: string, task: TaskDoc): void {
  const running: TaskDoc = { ...task, previousState: 'active', previousStateTransitionTime: task.stateTransitionTime, state: 'running', stateTransitionTime: stamp() };
  update.run('running', JSON.stringify(running), job, task.id);
  const directory = path.join(options.data, 'nodes', job, task.id);
  mkdirSync(path.join(directory, 'wd'), { recursive: true });
  const stdout = openSync(path.join(directory, 'stdout.txt'), 'a');
  const stderr = openSync(path.join(directory, 'stderr.txt'), 'a');
  const [program, ...args] = (task.commandLine ?? '/bin/true').split(' ');
  const child = spawn(program as string, args, { cwd: path.join(directory, 'wd'), stdio: ['ignore', stdout, stderr], detached: true });
  const finish = (exitCode: number) => {
    closeSync(stdout);
    closeSync(stderr);
    const completed: TaskDoc = {
      ...running,
      previousState: 'running',
      previousStateTransitionTime: running.stateTransitionTime,
      state: 'completed',
      stateTransitionTime: stamp(),
      executionInfo: { exitCode, result: exitCode === 0 ? 'success' : 'failure' },
    };
    update.run('completed', JSON.stringify(completed), job, task.id);
  };
  child.once('error', () => finish(127));
  child.once('exit', (code) => finish(code ?? 128));
}

function reply(response: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status, { 'Content-Length': '0' });
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json;odata=minimalmetadata', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
}

async function handle(request: http.IncomingMessage, response: http.ServerResponse, baseUrl: string): Promise<void> {
  const url = new URL(request.url ?? '/', baseUrl);
  const parts = url.pathname.split('/').filter((part) => part !== '').map(decodeURIComponent);
  if (parts[0] === 'health') return reply(response, 200, { status: 'ok' });
  if (parts[0] !== 'jobs' || parts[1] === undefined) return reply(response, 404, { code: 'InvalidUri' });
  const job = parts[1];
  if (request.method === 'POST' && parts[2] === 'addtaskcollection') {
    const body = await readBody(request);
    const docs = ((body.value as Record<string, unknown>[]) ?? []).map(newTask);
    const added = addMany(job, docs);
    return reply(response, 200, { value: docs.map((doc, index) => ({ status: added[index] ? 'success' : 'clienterror', taskId: doc.id })) });
  }
  if (request.method === 'POST' && parts[2] === 'tasks' && parts.length === 3) {
    const task = newTask(await readBody(request));
    if (insert.run(job, task.id, task.state, JSON.stringify(task)).changes !== 1) return reply(response, 409, { code: 'TaskExists' });
    run(job, task);
    return reply(response, 201);
  }
  if (request.method === 'GET' && parts[2] === 'taskcounts') {
    const result = { active: 0, running: 0, completed: 0, succeeded: 0, failed: 0 };
    for (const row of counts.all(job) as { state: string; n: number }[]) {
      if (row.state === 'active' || row.state === 'running' || row.state === 'completed') result[row.state] += row.n;
    }
    result.succeeded = result.completed;
    return reply(response, 200, { taskCounts: result, taskSlotCounts: result });
  }
  if (request.method === 'GET' && parts[2] === 'tasks' && parts[4] === 'files' && (parts[5] === 'stdout.txt' || parts[5] === 'stderr.txt')) {
    // Ids as Batch allows them: a path segment such as '..' never reaches the file system.
    if (![job, parts[3]].every((id) => /^[\w-]{1,64}$/.test(id ?? ''))) return reply(response, 400, { code: 'InvalidUri' });
    const text = readFileSync(path.join(options.data, 'nodes', job, parts[3] as string, parts[5]));
    response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': text.length });
    response.end(text);
    return;
  }
  if (request.method === 'GET' && parts[2] === 'tasks' && parts[3] !== undefined) {
    const row = getOne.get(job, parts[3]) as { doc: string } | undefined;
    if (!row) return reply(response, 404, { code: 'TaskNotFound' });
    const text = row.doc;
    response.writeHead(200, { 'Content-Type': 'application/json;odata=minimalmetadata', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
    return;
  }
  if (request.method === 'GET' && parts[2] === 'tasks') {
    const limit = Math.min(1000, Number(url.searchParams.get('maxresults') ?? 1000));
    const after = Number(url.searchParams.get('$skiptoken') ?? 0);
    const filter = /^state eq '(\w+)'$/.exec(url.searchParams.get('$filter') ?? '');
    const rows = (filter ? pageByState.all(job, filter[1], after, limit + 1) : page.all(job, after, limit + 1)) as { seq: number; doc: string }[];
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    let next: string | undefined;
    if (more) {
      const link = new URL(url);
      link.searchParams.set('$skiptoken', String(shown[shown.length - 1]?.seq));
      next = link.toString();
    }
    // Rows are JSON already: splice them rather than parse and serialize again.
    const text = `{"value":[${shown.map((row) => row.doc).join(',')}]${next ? `,"odata.nextLink":${JSON.stringify(next)}` : ''}}`;
    response.writeHead(200, { 'Content-Type': 'application/json;odata=minimalmetadata', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
    return;
  }
  return reply(response, 404, { code: 'InvalidUri' });
}

const server = http.createServer((request, response) => {
  const baseUrl = `http://${request.headers.host ?? '127.0.0.1'}`;
  handle(request, response, baseUrl).catch((error: unknown) => reply(response, 500, { code: 'InternalError', message: (error as Error).message }));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(options.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`Batch URL:       http://127.0.0.1:${port}\nready\n`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
