// A node's VM extensions, as ComputeNodeExtension_Get and _List report them:
// the extensions its pool declares (virtualMachineConfiguration.extensions),
// each with an instance view saying what the node did with it. A local node
// is not a VM and runs no extension, so every view says so plainly rather
// than claiming a provisioning Batch would have done.

import type { Pool } from './pool.js';

export interface VMExtension {
  name: string;
  publisher?: string;
  type?: string;
  typeHandlerVersion?: string;
  autoUpgradeMinorVersion?: boolean;
  enableAutomaticUpgrade?: boolean;
  settings?: unknown;
  provisionAfterExtensions?: string[];
  [extra: string]: unknown;
}

export interface InstanceViewStatus {
  code: string;
  displayStatus: string;
  level: 'Error' | 'Info' | 'Warning';
  message: string;
}

export interface NodeVMExtension {
  provisioningState: string;
  vmExtension: VMExtension;
  instanceView: { name: string; statuses: InstanceViewStatus[] };
}

/** What a local node did with an extension: nothing, and it says so. */
export const NOT_INSTALLED_STATUS: InstanceViewStatus = {
  code: 'ProvisioningState/notinstalled',
  displayStatus: 'Not installed',
  level: 'Warning',
  message: 'not installed: local node. Lapis nodes are not virtual machines and run no VM extensions; the extension is recorded on the pool only.',
};

/** An extension as answered: its protectedSettings are secrets, taken and never returned. */
export function withoutProtectedSettings(extension: unknown): unknown {
  if (extension === null || typeof extension !== 'object') return extension;
  const { protectedSettings: _secret, ...rest } = extension as Record<string, unknown>;
  return rest;
}

function declaredExtensions(pool: Pool): VMExtension[] {
  const extensions = pool.virtualMachineConfiguration?.extensions;
  return Array.isArray(extensions) ? (extensions as VMExtension[]) : [];
}

export function nodeExtensions(pool: Pool): NodeVMExtension[] {
  return declaredExtensions(pool).map((extension) => ({
    provisioningState: 'NotInstalled',
    vmExtension: withoutProtectedSettings(extension) as VMExtension,
    instanceView: { name: extension.name, statuses: [NOT_INSTALLED_STATUS] },
  }));
}

/** The extension of that name (names compare without regard to case, as Batch's resource names do), or undefined. */
export function nodeExtension(pool: Pool, name: string): NodeVMExtension | undefined {
  return nodeExtensions(pool).find((extension) => extension.vmExtension.name.toLowerCase() === name.toLowerCase());
}
