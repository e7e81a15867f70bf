// Wire types shared by several Batch resources. Property names and enum values
// are exactly those on the wire (camelCase, lower-case enums).

export interface NameValuePair {
  name: string;
  value: string;
}

export interface EnvironmentSetting {
  name: string;
  value?: string;
}

export interface ResourceFile {
  autoStorageContainerName?: string;
  storageContainerUrl?: string;
  httpUrl?: string;
  blobPrefix?: string;
  filePath?: string;
  fileMode?: string;
  identityReference?: { resourceId?: string };
}

export type OutputFileUploadCondition = 'tasksuccess' | 'taskfailure' | 'taskcompletion';

/** A task's files to upload to blob storage when it ends. */
export interface OutputFile {
  filePattern: string;
  destination: {
    container: {
      containerUrl: string;
      path?: string;
      identityReference?: { resourceId?: string };
      uploadHeaders?: { name: string; value?: string }[];
    };
  };
  uploadOptions: { uploadCondition: OutputFileUploadCondition };
}

export type ElevationLevel = 'nonadmin' | 'admin';
export type AutoUserScope = 'task' | 'pool';

export interface UserIdentity {
  /** `username` on the wire (the SDKs call it userName). */
  username?: string;
  autoUser?: { scope?: AutoUserScope; elevationLevel?: ElevationLevel };
}

export interface ApplicationPackageReference {
  applicationId: string;
  version?: string;
}

export type ErrorCategory = 'usererror' | 'servererror';

export interface TaskFailureInfo {
  category: ErrorCategory;
  code?: string;
  message?: string;
  details?: NameValuePair[];
}

/** Fields every top-level Batch resource carries. */
export interface Versioned {
  eTag: string;
  lastModified: string;
}
