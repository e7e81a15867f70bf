// Certificate operations: Certificate_Add, Certificate_List, Certificate_Get,
// Certificate_Delete, Certificate_CancelDeletion.
//
// A certificate is addressed by an OData key segment,
// `/certificates(thumbprintAlgorithm=sha1,thumbprint=ABC…)`. find-my-way reads
// `(` after a parameter as the start of its regular expression, so the route
// is one parameter matching the whole parenthesised key, which is parsed here
// (names in either order and any case, values optionally quoted).

import { batchErrors } from '../../../core/errors.js';
import type { Certificate } from '../../../core/certificate.js';
import type { CertificateService } from '../../../services/certificate-service.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import { certificateAddBody } from '../schemas/certificate.js';
import { parseBody } from '../schemas/validate.js';
import { changedReply, createdReply, entityReply, listReply, pageQuery, versionHeaders } from '../wire.js';

const CERTIFICATE_PATH = '/certificates:key(^\\(.+\\)$)';

export interface CertificateKey {
  thumbprintAlgorithm: string;
  thumbprint: string;
}

/** `(thumbprintAlgorithm=sha1,thumbprint=ABC)` → its two values; a malformed key is InvalidUri. */
export function parseCertificateKey(segment: string): CertificateKey {
  const inner = /^\((.*)\)$/.exec(segment)?.[1];
  const values = new Map<string, string>();
  for (const part of inner?.split(',') ?? []) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(?:'([^']*)'|([^']*?))\s*$/.exec(part);
    if (!match) throw batchErrors.invalidUri();
    values.set((match[1] as string).toLowerCase(), match[2] ?? match[3] ?? '');
  }
  const thumbprintAlgorithm = values.get('thumbprintalgorithm');
  const thumbprint = values.get('thumbprint');
  if (values.size !== 2 || !thumbprintAlgorithm || !thumbprint) throw batchErrors.invalidUri();
  return { thumbprintAlgorithm, thumbprint };
}

function certificateUrl(request: BatchRequest, certificate: Pick<Certificate, 'thumbprintAlgorithm' | 'thumbprint'>): string {
  return `${request.baseUrl}/certificates(thumbprintAlgorithm=${certificate.thumbprintAlgorithm},thumbprint=${certificate.thumbprint})`;
}

/** The wire shape: never the data or password (which the value does not hold); its ETag and times are the record's internal part, for headers only. */
export function certificateToWire(request: BatchRequest, certificate: Certificate): object {
  const { thumbprint, thumbprintAlgorithm } = certificate;
  return Object.assign({ thumbprint, thumbprintAlgorithm, url: certificateUrl(request, certificate) }, certificate);
}

export function certificateOperations(services: { certificates: CertificateService }): Operation[] {
  const key = (request: BatchRequest<{ key: string }>) => parseCertificateKey(request.params.key);
  return [
    operation({
      id: 'Certificate_Add',
      method: 'POST',
      path: '/certificates',
      handler(request) {
        const spec = parseBody(certificateAddBody, request.body);
        const { certificate, internal } = services.certificates.add(request.caller, spec);
        return createdReply(internal, certificateUrl(request, certificate));
      },
    }),
    operation({
      id: 'Certificate_List',
      method: 'GET',
      path: '/certificates',
      handler(request) {
        const page = services.certificates.list(request.caller, pageQuery(request, 'certificates'));
        return listReply(request, 'certificates', page.items.map((certificate) => certificateToWire(request, certificate)), page.continuation);
      },
    }),
    operation({
      id: 'Certificate_Get',
      method: 'GET',
      path: CERTIFICATE_PATH,
      handler(request) {
        const { thumbprintAlgorithm, thumbprint } = key(request);
        const { certificate, internal } = services.certificates.get(request.caller, thumbprintAlgorithm, thumbprint);
        return entityReply(request, 'certificates', internal, certificateToWire(request, certificate));
      },
    }),
    operation({
      id: 'Certificate_Delete',
      method: 'DELETE',
      path: CERTIFICATE_PATH,
      handler(request) {
        const { thumbprintAlgorithm, thumbprint } = key(request);
        const { internal } = services.certificates.delete(request.caller, thumbprintAlgorithm, thumbprint);
        return { status: 202, headers: versionHeaders(internal) };
      },
    }),
    operation({
      id: 'Certificate_CancelDeletion',
      method: 'POST',
      path: `${CERTIFICATE_PATH}/canceldelete`,
      handler(request) {
        const { thumbprintAlgorithm, thumbprint } = key(request);
        const { certificate, internal } = services.certificates.cancelDeletion(request.caller, thumbprintAlgorithm, thumbprint);
        return changedReply(204, internal, certificateUrl(request, certificate));
      },
    }),
  ];
}
