// What a pool's vmSize gives each container node: its vCPUs and memory, as
// Azure lists them for common sizes. A size not listed runs unlimited.

const SIZES: Readonly<Record<string, { cpus: number; memoryGiB: number }>> = {
  standard_a1_v2: { cpus: 1, memoryGiB: 2 },
  standard_a2_v2: { cpus: 2, memoryGiB: 4 },
  standard_a4_v2: { cpus: 4, memoryGiB: 8 },
  standard_a8_v2: { cpus: 8, memoryGiB: 16 },
  standard_d1_v2: { cpus: 1, memoryGiB: 3.5 },
  standard_ds1_v2: { cpus: 1, memoryGiB: 3.5 },
  standard_d2_v2: { cpus: 2, memoryGiB: 7 },
  standard_ds2_v2: { cpus: 2, memoryGiB: 7 },
  standard_d3_v2: { cpus: 4, memoryGiB: 14 },
  standard_ds3_v2: { cpus: 4, memoryGiB: 14 },
  standard_d4_v2: { cpus: 8, memoryGiB: 28 },
  standard_ds4_v2: { cpus: 8, memoryGiB: 28 },
  standard_d2_v3: { cpus: 2, memoryGiB: 8 },
  standard_d2s_v3: { cpus: 2, memoryGiB: 8 },
  standard_d4_v3: { cpus: 4, memoryGiB: 16 },
  standard_d4s_v3: { cpus: 4, memoryGiB: 16 },
  standard_d8_v3: { cpus: 8, memoryGiB: 32 },
  standard_d8s_v3: { cpus: 8, memoryGiB: 32 },
  standard_d16s_v3: { cpus: 16, memoryGiB: 64 },
  standard_d2s_v5: { cpus: 2, memoryGiB: 8 },
  standard_d4s_v5: { cpus: 4, memoryGiB: 16 },
  standard_d8s_v5: { cpus: 8, memoryGiB: 32 },
  standard_d2as_v5: { cpus: 2, memoryGiB: 8 },
  standard_d4as_v5: { cpus: 4, memoryGiB: 16 },
  standard_e2s_v3: { cpus: 2, memoryGiB: 16 },
  standard_e4s_v3: { cpus: 4, memoryGiB: 32 },
  standard_f2s_v2: { cpus: 2, memoryGiB: 4 },
  standard_f4s_v2: { cpus: 4, memoryGiB: 8 },
  standard_f8s_v2: { cpus: 8, memoryGiB: 16 },
  standard_nc6: { cpus: 6, memoryGiB: 56 },
};

/** The engine flags that give a node its size's CPUs and memory; none for a size not listed. */
export function vmSizeLimits(vmSize: string | undefined): string[] {
  const size = vmSize ? SIZES[vmSize.toLowerCase()] : undefined;
  if (!size) return [];
  return ['--cpus', String(size.cpus), '--memory', `${Math.round(size.memoryGiB * 1024)}m`];
}
