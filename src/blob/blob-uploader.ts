// Uploads to a container URL a client gave (with its SAS), for
// ComputeNode_UploadBatchServiceLogs.

import type { BlobUploader } from '../core/ports.js';
import { storageBlob } from './storage-blob.js';

export class SasBlobUploader implements BlobUploader {
  async upload(containerUrl: string, blobName: string, content: Buffer): Promise<void> {
    const container = new (storageBlob().ContainerClient)(containerUrl);
    await container.getBlockBlobClient(blobName).uploadData(content);
  }
}
