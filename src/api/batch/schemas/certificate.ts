// Request body of Certificate_Add. The rules beyond the shape (sha1 only, a
// 40-digit thumbprint, base64 data of at most 10 KB, no password with cer,
// the data really a certificate with that thumbprint) are core's and the
// service's: core/certificate.ts and services/certificate-service.ts.

import { z } from 'zod';
import type { CertificateSpec } from '../../../core/certificate.js';
import { lowerEnum, requestBody } from './validate.js';

export const certificateAddBody = requestBody<CertificateSpec>(
  'CertificateAddParameter',
  z.looseObject({
    thumbprint: z.string(),
    thumbprintAlgorithm: z.string(),
    data: z.string(),
    certificateFormat: lowerEnum(['pfx', 'cer']).optional(),
    password: z.string().optional(),
  }),
);
