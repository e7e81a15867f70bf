// One task: command line, environment (secret values masked), resource and
// output files, retries, its files, and stdout/stderr live while it runs.

import { batchGet, batchList, batchPost, encode } from '../api';
import { Action, Field, Loading, Section, State, useLoad } from '../components';
import { duration, maskedUrl, maskedValue, when } from '../format';
import { useLiveVersion } from '../live';
import type { NodeFile, Task } from '../models';
import { LiveOutput } from './output';

export function TaskDetail({ jobId, taskId }: { jobId: string; taskId: string }) {
  const live = useLiveVersion((event) => event.jobId?.toLowerCase() === jobId.toLowerCase() && event.taskId === taskId, [jobId, taskId]);
  const base = `/jobs/${encode(jobId)}/tasks/${encode(taskId)}`;
  const loaded = useLoad(
    async () => {
      const task = await batchGet<Task>(base);
      const files = task.nodeInfo ? await batchList<NodeFile>(`${base}/files`, { recursive: 'true' }).catch(() => []) : [];
      return { task, files };
    },
    [base, live],
  );
  return (
    <div class="view" data-view="task">
      <h1>
        Task <a href={`#/jobs/${encode(jobId)}`}>{jobId}</a> / {taskId}
      </h1>
      <Loading loaded={loaded}>
        {({ task, files }) => {
          const info = task.executionInfo ?? {};
          const running = task.state === 'running' || task.state === 'preparing';
          return (
            <>
              <dl class="fields">
                <Field name="State"><State value={task.state} /> since {when(task.stateTransitionTime)}</Field>
                <Field name="Command line"><code id="command-line">{task.commandLine}</code></Field>
                <Field name="Node">{task.nodeInfo?.nodeId ? <a href={`#/pools/${encode(task.nodeInfo.poolId ?? '')}/nodes/${encode(task.nodeInfo.nodeId)}`}>{task.nodeInfo.nodeId}</a> : '—'}</Field>
                <Field name="Started">{when(info.startTime)}</Field>
                <Field name={info.endTime ? 'Ended' : 'Running for'}>{info.endTime ? `${when(info.endTime)} (after ${duration(info.startTime, info.endTime)})` : info.startTime ? duration(info.startTime, undefined) : '—'}</Field>
                <Field name="Exit code">{info.exitCode ?? '—'}</Field>
                <Field name="Result">{info.result ?? '—'}</Field>
                {info.failureInfo ? <Field name="Failure"><span class="error">{info.failureInfo.code}: {info.failureInfo.message}</span></Field> : null}
                <Field name="Retries">{info.retryCount ?? 0} of {task.constraints?.maxTaskRetryCount ?? 0} {info.lastRetryTime ? `(last ${when(info.lastRetryTime)})` : ''}</Field>
                <Field name="Requeues">{info.requeueCount ?? 0} {info.lastRequeueTime ? `(last ${when(info.lastRequeueTime)})` : ''}</Field>
              </dl>
              <div class="buttons">{task.state !== 'completed' ? <Action label="Terminate task" run={() => batchPost(`${base}/terminate`)} /> : null}</div>
              <Section title="Output" id="output">
                <LiveOutput path={`${base}/files/stdout.txt`} title="stdout.txt" following={running} />
                <LiveOutput path={`${base}/files/stderr.txt`} title="stderr.txt" following={running} />
              </Section>
              <Section title="Environment" id="environment">
                {(task.environmentSettings ?? []).length === 0 ? <p class="muted">None set on the task.</p> : null}
                <table>
                  <tbody>
                    {(task.environmentSettings ?? []).map((setting) => (
                      <tr key={setting.name}>
                        <td><code>{setting.name}</code></td>
                        <td><code>{maskedValue(setting.name, setting.value)}</code></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Section>
              <Section title="Resource files">
                {(task.resourceFiles ?? []).length === 0 ? <p class="muted">None.</p> : null}
                <ul>
                  {(task.resourceFiles ?? []).map((file, index) => (
                    <li key={index}>
                      <code>{file.filePath ?? ''}</code> ← <code>{maskedUrl(file.httpUrl ?? file.storageContainerUrl) || file.autoStorageContainerName}</code>
                    </li>
                  ))}
                </ul>
              </Section>
              <Section title="Output files">
                {(task.outputFiles ?? []).length === 0 ? <p class="muted">None.</p> : null}
                <ul>
                  {(task.outputFiles ?? []).map((file, index) => (
                    <li key={index}>
                      <code>{file.filePattern}</code> → <code>{maskedUrl(file.destination?.container?.containerUrl)}</code> {file.destination?.container?.path ?? ''} ({file.uploadOptions?.uploadCondition ?? ''})
                    </li>
                  ))}
                </ul>
              </Section>
              <Section title="Files on the node">
                <FileList files={files} />
              </Section>
            </>
          );
        }}
      </Loading>
    </div>
  );
}

export function FileList({ files }: { files: NodeFile[] }) {
  if (files.length === 0) return <p class="muted">No files.</p>;
  return (
    <table class="files">
      <tbody>
        {files
          .filter((file) => !file.isDirectory)
          .map((file) => (
            <tr key={file.name}>
              <td><code>{file.name}</code></td>
              <td>{file.properties?.contentLength ?? ''} bytes</td>
              <td>{when(file.properties?.lastModified)}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}
