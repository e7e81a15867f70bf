// The services the Batch REST surface calls.

import type { ApplicationService } from '../../services/application-service.js';
import type { CertificateService } from '../../services/certificate-service.js';
import type { FileService } from '../../services/file-service.js';
import type { JobPreparationService } from '../../services/job-preparation-service.js';
import type { JobScheduleService } from '../../services/job-schedule-service.js';
import type { JobService } from '../../services/job-service.js';
import type { NodeService } from '../../services/node-service.js';
import type { PoolService } from '../../services/pool-service.js';
import type { StatisticsService } from '../../services/statistics-service.js';
import type { TaskService } from '../../services/task-service.js';
import type { SupportedImage } from '../../core/supported-images.js';

export interface BatchServices {
  pools: PoolService;
  jobs: JobService;
  jobSchedules: JobScheduleService;
  preparation: JobPreparationService;
  tasks: TaskService;
  nodes: NodeService;
  files: FileService;
  statistics: StatisticsService;
  certificates: CertificateService;
  applications: ApplicationService;
  /** What this server's nodes run (Account_ListSupportedImages): process nodes' fixed set, or the container image table's; read when asked, as whether container pools can run is found out when first needed. */
  supportedImages(): readonly SupportedImage[];
}
