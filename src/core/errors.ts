// The Batch error catalogue: one factory per Batch error code. Core and
// services raise these as values; api/batch maps `kind` to an HTTP status and
// writes Batch's error envelope once. Messages are Batch's own texts where known.

export type BatchErrorKind =
  | 'badRequest'
  | 'authentication'
  | 'notFound'
  | 'conflict'
  | 'conditionNotMet'
  | 'notModified'
  | 'tooLarge'
  | 'rangeNotSatisfiable'
  | 'methodNotAllowed'
  | 'serverBusy'
  | 'requestTimeout'
  | 'internal';

export interface BatchErrorDetail {
  key: string;
  value: string;
}

export class BatchError extends Error {
  constructor(
    readonly code: string,
    readonly kind: BatchErrorKind,
    message: string,
    readonly values: BatchErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

export function isBatchError(error: unknown): error is BatchError {
  return error instanceof BatchError;
}

function propertyValues(property: string, reason?: string): BatchErrorDetail[] {
  const values = [{ key: 'PropertyName', value: property }];
  if (reason) values.push({ key: 'Reason', value: reason });
  return values;
}

const notFound = (code: string, message: string) => () => new BatchError(code, 'notFound', message);
const conflict = (code: string, message: string) => () => new BatchError(code, 'conflict', message);

// Certificates and applications: their own groups, so the code of those
// resources names them as it always has; `batchErrors` below holds them too.

export const certificateErrors = {
  certificateNotFound: notFound('CertificateNotFound', 'The specified certificate does not exist.'),
  certificateExists: conflict('CertificateExists', 'The specified certificate already exists.'),
  certificateBeingDeleted: conflict('CertificateBeingDeleted', 'The specified certificate has been marked for deletion and is being deleted.'),
  certificateStateActive: conflict('CertificateStateActive', 'The specified certificate is in the active state; only a certificate whose deletion failed can have its deletion cancelled.'),
  /** Pool_Add / Pool_Patch / Pool_UpdateProperties naming a certificate the account does not have (status not confirmed against Batch). */
  invalidCertificateReferences: (references: string[]) =>
    new BatchError(
      'InvalidCertificateReferences',
      'conflict',
      'One or more certificate references could not be satisfied: the certificate does not exist or is being deleted.',
      references.map((reference) => ({ key: 'CertificateReference', value: reference })),
    ),
};

export const applicationErrors = {
  applicationNotFound: notFound('ApplicationNotFound', 'The specified application does not exist.'),
  /** A pool's applicationPackageReferences that name no registered package, or no version while the application has no default. */
  invalidApplicationPackageReferences: (references: string[]) =>
    new BatchError(
      'InvalidApplicationPackageReferences',
      'conflict',
      'One or more application package references could not be satisfied. This occurs if the application id or version does not exist or is not active, or if the reference did not specify a version and there is no default version configured.',
      references.map((reference) => ({ key: 'ApplicationPackageReference', value: reference })),
    ),
  /** Lapis's own, for the operator's `lapis app add` and `remove`: Batch's data plane cannot change packages. */
  applicationPackageExists: (applicationId: string, version: string) =>
    new BatchError('ApplicationPackageExists', 'conflict', `Version ${version} of application ${applicationId} is already registered.`, [
      { key: 'ApplicationId', value: applicationId },
      { key: 'Version', value: version },
    ]),
  applicationPackageNotFound: (applicationId: string, version: string) =>
    new BatchError('ApplicationPackageNotFound', 'notFound', `Version ${version} of application ${applicationId} is not registered.`, [
      { key: 'ApplicationId', value: applicationId },
      { key: 'Version', value: version },
    ]),
};

export const batchErrors = {
  // Request shape
  missingRequiredProperty: (property: string) =>
    new BatchError(
      'MissingRequiredProperty',
      'badRequest',
      'A required property was not specified in the request body.',
      propertyValues(property),
    ),
  invalidPropertyValue: (property: string, reason: string) =>
    new BatchError(
      'InvalidPropertyValue',
      'badRequest',
      'The value provided for one of the properties in the request body is invalid.',
      propertyValues(property, reason),
    ),
  invalidRequestBody: (reason: string) =>
    new BatchError('InvalidRequestBody', 'badRequest', 'The specified Request Body is not syntactically valid.', [
      { key: 'Reason', value: reason },
    ]),
  requestBodyTooLarge: () =>
    new BatchError('RequestBodyTooLarge', 'tooLarge', 'The request body is too large and exceeds the maximum permissible limit.'),
  /** The client did not send its whole request within the server's request timeout (a stalled or very slow body). */
  requestTimedOut: () => new BatchError('OperationTimedOut', 'requestTimeout', 'The operation could not be completed within the permitted time.'),
  missingRequiredQueryParameter: (name: string) =>
    new BatchError('MissingRequiredQueryParameter', 'badRequest', 'A query parameter that\'s mandatory for this request is not specified.', [
      { key: 'QueryParameterName', value: name },
    ]),
  invalidQueryParameterValue: (name: string, value: string, reason: string) =>
    new BatchError('InvalidQueryParameterValue', 'badRequest', 'Value for one of the query parameters specified in the request URI is invalid.', [
      { key: 'QueryParameterName', value: name },
      { key: 'QueryParameterValue', value },
      { key: 'Reason', value: reason },
    ]),
  outOfRangeQueryParameterValue: (name: string, value: string, reason: string) =>
    new BatchError('OutOfRangeQueryParameterValue', 'badRequest', 'One of the query parameters specified in the request URI is outside the permissible range.', [
      { key: 'QueryParameterName', value: name },
      { key: 'QueryParameterValue', value },
      { key: 'Reason', value: reason },
    ]),
  invalidHeaderValue: (name: string, value: string) =>
    new BatchError('InvalidHeaderValue', 'badRequest', 'The value for one of the HTTP headers is not in the correct format.', [
      { key: 'HeaderName', value: name },
      { key: 'HeaderValue', value },
    ]),
  unsupportedRequestVersion: (version: string, accepted: readonly string[]) =>
    new BatchError('UnsupportedRequestVersion', 'badRequest', `The specified Request Version is not supported. Supported versions: ${accepted.join(', ')}.`, [
      { key: 'QueryParameterName', value: 'api-version' },
      { key: 'QueryParameterValue', value: version },
      { key: 'SupportedVersions', value: accepted.join(', ') },
    ]),
  invalidUri: () => new BatchError('InvalidUri', 'badRequest', 'The requested URI does not represent any resource on the server.'),
  unsupportedHttpVerb: (verb: string) =>
    new BatchError('UnsupportedHttpVerb', 'methodNotAllowed', 'The resource doesn\'t support the specified HTTP verb.', [
      { key: 'HttpVerb', value: verb },
    ]),
  authenticationFailed: (detail: string) =>
    new BatchError(
      'AuthenticationFailed',
      'authentication',
      'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
      [{ key: 'AuthenticationErrorDetail', value: detail }],
    ),
  insufficientAccountPermissions: (detail: string) =>
    new BatchError('InsufficientAccountPermissions', 'authentication', 'The account being accessed does not have sufficient permissions to execute this operation.', [
      { key: 'AuthenticationErrorDetail', value: detail },
    ]),
  conditionNotMet: () => new BatchError('ConditionNotMet', 'conditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.'),
  notModified: () => new BatchError('ConditionNotMet', 'notModified', 'The condition specified using HTTP conditional header(s) is not met.'),
  invalidRange: () => new BatchError('InvalidRange', 'rangeNotSatisfiable', 'The range specified is invalid for the current size of the resource.'),
  internal: () => new BatchError('InternalError', 'internal', 'Server encountered an internal error. Please try again after some time.'),

  // Not found
  poolNotFound: notFound('PoolNotFound', 'The specified pool does not exist.'),
  jobNotFound: notFound('JobNotFound', 'The specified job does not exist.'),
  taskNotFound: notFound('TaskNotFound', 'The specified task does not exist.'),
  nodeNotFound: notFound('NodeNotFound', 'The specified node does not exist.'),
  fileNotFound: notFound('FileNotFound', 'The specified file does not exist.'),
  jobScheduleNotFound: notFound('JobScheduleNotFound', 'The specified job schedule does not exist.'),
  nodeUserNotFound: notFound('NodeUserNotFound', 'The specified node user does not exist.'),
  extensionNotFound: notFound('ResourceNotFound', 'The specified extension does not exist on the node.'),
  resourceNotFound: notFound('ResourceNotFound', 'The specified resource does not exist.'),
  faultInjectionOff: notFound('ResourceNotFound', 'The specified resource does not exist: failure injection is off (start lapis serve with --faults).'),

  // Already exists
  poolExists: conflict('PoolExists', 'The specified pool already exists.'),
  jobExists: conflict('JobExists', 'The specified job already exists.'),
  taskExists: conflict('TaskExists', 'The specified task already exists.'),
  jobScheduleExists: conflict('JobScheduleExists', 'The specified job schedule already exists.'),
  jobWithSameIdExists: conflict('JobWithSameIdExists', 'A job with the same id exists; jobs and job schedules share their ids.'),
  jobScheduleWithSameIdExists: conflict('JobScheduleWithSameIdExists', 'A job schedule with the same id exists; jobs and job schedules share their ids.'),
  nodeUserExists: conflict('NodeUserExists', 'The specified node user already exists.'),

  // State conflicts
  poolBeingDeleted: conflict('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.'),
  poolNotResizing: conflict('PoolNotResizing', 'The specified pool is not resizing.'),
  poolBeingResized: conflict('PoolBeingResized', 'The specified pool is currently being resized.'),
  jobBeingDeleted: conflict('JobBeingDeleted', 'The specified job has been marked for deletion and is being garbage collected.'),
  jobBeingTerminated: conflict('JobBeingTerminated', 'The specified job is being terminated.'),
  jobCompleted: conflict('JobCompleted', 'The specified job is already in a completed state.'),
  jobScheduleCompleted: conflict('JobScheduleCompleted', 'The specified job schedule is already in a completed state.'),
  jobScheduleBeingTerminated: conflict('JobScheduleBeingTerminated', 'The specified job schedule is being terminated.'),
  jobScheduleBeingDeleted: conflict('JobScheduleBeingDeleted', 'The specified job schedule has been marked for deletion and is being reclaimed.'),
  autoScaleEnabled: () =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'The pool scales automatically; disable autoscale before resizing it.'),
  autoScaleNotEnabled: () =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'Autoscale is not enabled on the pool; enable it before evaluating a formula.'),
  jobPreparationTaskOrReleaseTaskNotSpecified: conflict(
    'JobPreparationTaskOrReleaseTaskNotSpecified',
    'The specified job has neither a job preparation task nor a job release task.',
  ),
  remoteDesktopNotSupported: () =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'Remote desktop files are only available for nodes of cloud service configuration pools.'),
  poolNotEmpty: (properties: readonly string[]) =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'These pool properties can change only while the pool has no nodes.', [
      { key: 'PropertyNames', value: properties.join(',') },
    ]),
  /** No Lapis node kind mounts file systems: accepted and ignored, the pool's tasks would fail later and far from the cause. */
  mountsNotSupported: (property: string) =>
    new BatchError(
      'InvalidPropertyValue',
      'badRequest',
      'The value provided for one of the properties in the request body is invalid.',
      [
        { key: 'PropertyName', value: property },
        {
          key: 'Reason',
          value:
            'Lapis nodes do not mount file systems (Azure Blob, Azure Files, NFS or CIFS). Give tasks their data as resource files, or mount it from a start task.',
        },
      ],
    ),
  /** A container pool on a server that cannot run its containers: the reason names what is missing. */
  containerPoolsUnavailable: (reason: string) =>
    new BatchError('InvalidPropertyValue', 'badRequest', 'The value provided for one of the properties in the request body is invalid.', [
      { key: 'PropertyName', value: 'virtualMachineConfiguration.containerConfiguration' },
      { key: 'Reason', value: reason },
    ]),
  /** The operator started Lapis with --admin-tasks refuse, and the request would run code as admin. */
  adminTasksRefused: (property: string, value: string) =>
    new BatchError(
      'InvalidPropertyValue',
      'badRequest',
      'The value provided for one of the properties in the request body is invalid.',
      [
        { key: 'PropertyName', value: property },
        { key: 'PropertyValue', value },
        {
          key: 'Reason',
          value: 'The operator refused admin tasks on this Lapis (--admin-tasks refuse): on local nodes an admin task runs as root on the host. Use elevationLevel nonadmin.',
        },
      ],
    ),
  jobNotActive: conflict('JobNotActive', 'The specified job is not in an active state.'),
  jobNotDisabled: () => new BatchError('OperationInvalidForCurrentState', 'conflict', 'The specified job is not disabled.'),
  nodeNotReady: conflict('NodeNotReady', 'The specified node is not in a state that allows this operation.'),
  nodeAlreadyInTargetSchedulingState: conflict('NodeAlreadyInTargetSchedulingState', 'The specified node is already in the target scheduling state.'),
  taskCompleted: conflict('TaskCompleted', 'The specified task is already completed.'),
  taskNotReactivatable: (reason: string) =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'The specified task cannot be reactivated in its current state.', [
      { key: 'Reason', value: reason },
    ]),
  taskFilesUnavailable: () =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'The files of the specified task cannot be accessed as the task state is still active.'),
  taskNotScheduled: () =>
    new BatchError('TaskFilesUnavailable', 'conflict', 'The files of the specified task are not available because the task has not been scheduled to a node.'),
  taskFilesCleanedup: conflict('TaskFilesCleanedup', 'The task files of the specified task have been cleaned up from the compute node.'),
  directoryNotEmpty: () =>
    new BatchError('OperationInvalidForCurrentState', 'conflict', 'The directory is not empty; use recursive=true to delete it.'),
  taskDependencyListTooLong: () =>
    new BatchError('TaskDependencyListTooLong', 'badRequest', 'The ids in dependsOn.taskIds exceed 64,000 characters; use taskIdRanges instead.'),
  taskDependenciesNotSpecifiedOnJob: () =>
    new BatchError('TaskDependenciesNotSpecifiedOnJob', 'badRequest', 'The job does not allow tasks with dependencies: set usesTaskDependencies to true on the job.'),

  // Certificates and applications
  ...certificateErrors,
  ...applicationErrors,
};
