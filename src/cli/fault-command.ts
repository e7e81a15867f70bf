// `lapis fault …`: the failure-injection API of a server started with
// --faults (docs/testing-your-batch-app.md). Adding a fault prints its id
// alone (for `id=$(lapis fault …)`); `list` prints each fault as a JSON line.

import type { Command } from 'commander';
import { addConnectionOptions, asClientCommand, batchClient, type ConnectionOptions } from './batch-connection.js';
import { FaultClient, type FailureInfoRequest, type FaultRequest } from './fault-client.js';

interface FailureOptions {
  code?: string;
  category?: 'usererror' | 'servererror';
  message?: string;
  count?: string;
}

async function faultClient(options: ConnectionOptions): Promise<FaultClient> {
  return new FaultClient(await batchClient(options), options.url);
}

function failureInfoOf(options: FailureOptions, code: string): FailureInfoRequest {
  return { code, ...(options.category ? { category: options.category } : {}), ...(options.message ? { message: options.message } : {}) };
}

/** The count as the API reads it: a number (the server checks its range and says so). */
function countOf(options: FailureOptions): { count?: number } {
  return options.count === undefined ? {} : { count: Number(options.count) };
}

function withFailureOptions(command: Command): Command {
  return command
    .option('--category <category>', 'the failure category: usererror (default) or servererror')
    .option('--message <text>', "the failure info's message")
    .option('--count <n>', 'how many runs fail (default 1)');
}

export function addFaultCommand(program: Command): void {
  const fault = program.command('fault').description('Inject failures into a server started with --faults (docs/testing-your-batch-app.md).');
  // Commander calls an action with the arguments, then the options, then the command.
  const adding = <O>(command: Command, build: (args: string[], options: O) => FaultRequest) =>
    addConnectionOptions(command).action(async (...given: unknown[]) => {
      const options = given.at(-2) as O & ConnectionOptions;
      await asClientCommand(async () => {
        const added = await (await faultClient(options)).add(build(given.slice(0, -2) as string[], options));
        process.stdout.write(`${added.id}\n`);
      });
    });

  adding(
    fault.command('node-unusable').description('The node stops heartbeating and cannot be restarted: unknown, then unusable, its tasks requeued.').argument('<poolId>').argument('<nodeId>'),
    ([poolId, nodeId]) => ({ type: 'nodeUnusable', poolId: poolId as string, nodeId: nodeId as string }),
  );
  adding(
    fault
      .command('heartbeat-loss')
      .description("The node's heartbeats stop for the duration: unknown, its tasks requeued, restarted, then back in service.")
      .argument('<poolId>')
      .argument('<nodeId>')
      .argument('<duration>', 'an ISO-8601 duration, e.g. PT30S'),
    ([poolId, nodeId, duration]) => ({ type: 'heartbeatLoss', poolId: poolId as string, nodeId: nodeId as string, duration: duration as string }),
  );
  adding(
    withFailureOptions(
      fault
        .command('start-task-failure')
        .description("The next start tasks on the pool's nodes fail: with --exit-code (default 1), or with --code as failure info.")
        .argument('<poolId>')
        .option('--exit-code <code>', 'the exit code the start task ends with')
        .option('--code <code>', 'fail with this failure info code instead of an exit code'),
    ),
    ([poolId], options: FailureOptions & { exitCode?: string }) => ({
      type: 'startTaskFailure',
      poolId: poolId as string,
      ...countOf(options),
      ...(options.code ? { failureInfo: failureInfoOf(options, options.code) } : { exitCode: options.exitCode === undefined ? 1 : Number(options.exitCode) }),
    }),
  );
  adding(
    withFailureOptions(
      fault
        .command('task-failure')
        .description('The next task launches fail before their command starts, with the failure info code given.')
        .requiredOption('--code <code>', 'the Batch failure code, e.g. CommandLaunchFailed or BlobNotFound')
        .option('--pool <id>', "only tasks on this pool's nodes")
        .option('--job <id>', "only this job's tasks"),
    ),
    (_args, options: FailureOptions & { code: string; pool?: string; job?: string }) => ({
      type: 'taskFailure',
      ...(options.pool ? { poolId: options.pool } : {}),
      ...(options.job ? { jobId: options.job } : {}),
      ...countOf(options),
      failureInfo: failureInfoOf(options, options.code),
    }),
  );
  adding(
    fault
      .command('start-task-hang')
      .description("The next start tasks on the pool's nodes never finish (waitForSuccess: the node stays waitingForStartTask) until the fault is removed.")
      .argument('<poolId>')
      .option('--count <n>', 'how many start tasks hang (default 1)'),
    ([poolId], options: FailureOptions) => ({ type: 'startTaskHang', poolId: poolId as string, ...countOf(options) }),
  );
  adding(
    fault
      .command('preempt')
      .description("Preempt the pool's Spot/low-priority nodes (or --node): their tasks requeued; restored after --duration or when the fault is removed.")
      .argument('<poolId>')
      .option('--node <id>', 'only this node')
      .option('--duration <duration>', 'when the capacity returns, an ISO-8601 duration, e.g. PT1M (default: when the fault is removed)'),
    ([poolId], options: { node?: string; duration?: string }) => ({
      type: 'preemption',
      poolId: poolId as string,
      ...(options.node ? { nodeId: options.node } : {}),
      ...(options.duration ? { duration: options.duration } : {}),
    }),
  );
  const transferFailure = (name: string, type: 'resourceFileFailure' | 'outputFileFailure', what: string, code: string) =>
    adding(
      fault
        .command(name)
        .description(`The next tasks' ${what} fail on their node, as a real failure does (default code ${code}).`)
        .option('--code <code>', `the Batch failure code (default ${code})`)
        .option('--pool <id>', "only runs on this pool's nodes")
        .option('--job <id>', "only this job's tasks")
        .option('--count <n>', 'how many runs fail (default 1)'),
      (_args, options: FailureOptions & { pool?: string; job?: string }) => ({
        type,
        ...(options.pool ? { poolId: options.pool } : {}),
        ...(options.job ? { jobId: options.job } : {}),
        ...(options.code ? { code: options.code } : {}),
        ...countOf(options),
      }),
    );
  transferFailure('resource-file-failure', 'resourceFileFailure', 'resource file downloads', 'BlobNotFound');
  transferFailure('output-file-failure', 'outputFileFailure', 'output file uploads', 'FileUploadContainerNotFound');
  adding(
    fault.command('allocation-delay').description("The pool's nodes take this much longer to allocate while the fault lasts.").argument('<poolId>').argument('<duration>', 'an ISO-8601 duration, e.g. PT30S'),
    ([poolId, duration]) => ({ type: 'allocationDelay', poolId: poolId as string, duration: duration as string }),
  );

  addConnectionOptions(fault.command('kinds').description('Each kind of fault and what it does, one line each.')).action(async (options: ConnectionOptions) => {
    await asClientCommand(async () => {
      for (const kind of await (await faultClient(options)).kinds()) process.stdout.write(`${kind.type}\t${kind.description}\n`);
    });
  });
  addConnectionOptions(fault.command('list').description("The account's faults, one JSON line each.")).action(async (options: ConnectionOptions) => {
    await asClientCommand(async () => {
      for (const each of await (await faultClient(options)).list()) process.stdout.write(`${JSON.stringify(each)}\n`);
    });
  });
  addConnectionOptions(fault.command('remove').description('End a fault.').argument('<faultId>')).action(async (faultId: string, options: ConnectionOptions) => {
    await asClientCommand(async () => (await faultClient(options)).remove(faultId));
  });
}
