// Uploads to a container URL a client gave (with its SAS), for
// ComputeNode_UploadBatchServiceLogs.

import { ContainerClient } from '@azure/storage-blob';
import type { BlobUploader } from '../core/ports.js';

export class SasBlobUploader implements BlobUploader {
  async upload(containerUrl: string, blobName: string, content: Buffer): Promise<void> {
    const container = new ContainerClient(containerUrl);
    await container.getBlockBlobClient(blobName).uploadData(content);
  }
}
