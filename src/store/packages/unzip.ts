// A small zip reader for application packages: the central directory, stored
// and deflated entries, CRC checks. It refuses what it cannot honour rather
// than writing something else: zip64, encryption, other compression methods,
// symbolic links, and any entry whose name would land outside the target
// (absolute paths, drive letters, `..`). Unix permission bits recorded by a
// Unix zipper are kept (executables stay executable); otherwise files are
// 0644 and directories 0755.

import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

export interface ZipEntry {
  /** Forward-slash path inside the archive; directories end in '/'. */
  name: string;
  isDirectory: boolean;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Unix permission bits, when a Unix zipper recorded them. */
  mode?: number;
  localHeaderOffset: number;
}

/** Whether the bytes start like a zip archive (an empty archive is only its end record). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT);
  for (let offset = zip.length - EOCD_SIZE; offset >= lowest; offset -= 1) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new ZipError('The file is not a zip archive: it has no end of central directory record.');
}

/** The entries of the archive, from its central directory. */
export function readZipEntries(zip: Buffer): ZipEntry[] {
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  const directorySize = zip.readUInt32LE(end + 12);
  const directoryOffset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff || directorySize === 0xffffffff) {
    throw new ZipError('Zip64 archives are not supported; repack the package as a plain zip or register it as a directory.');
  }
  if (directoryOffset + directorySize > end) throw new ZipError('The zip archive is truncated or corrupt.');
  const entries: ZipEntry[] = [];
  let offset = directoryOffset;
  for (let index = 0; index < count; index += 1) {
    if (offset + 46 > end || zip.readUInt32LE(offset) !== CENTRAL_HEADER) throw new ZipError('The zip archive\'s central directory is corrupt.');
    const madeBy = zip.readUInt16LE(offset + 4);
    const flags = zip.readUInt16LE(offset + 8);
    const method = zip.readUInt16LE(offset + 10);
    const crc32 = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const externalAttributes = zip.readUInt32LE(offset + 38);
    const localHeaderOffset = zip.readUInt32LE(offset + 42);
    const rawName = zip.subarray(offset + 46, offset + 46 + nameLength);
    // Bit 11: the name is UTF-8; otherwise CP437, read here as Latin-1.
    const name = rawName.toString(flags & 0x800 ? 'utf8' : 'latin1').replace(/\\/g, '/');
    if (flags & 0x1) throw new ZipError(`The zip entry ${name} is encrypted.`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localHeaderOffset === 0xffffffff) {
      throw new ZipError('Zip64 archives are not supported; repack the package as a plain zip or register it as a directory.');
    }
    const unixMode = madeBy >> 8 === UNIX_HOST ? externalAttributes >>> 16 : 0;
    if ((unixMode & S_IFMT) === S_IFLNK) throw new ZipError(`The zip entry ${name} is a symbolic link; packages may not contain links.`);
    const isDirectory = name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR;
    const entry: ZipEntry = { name, isDirectory, method, crc32, compressedSize, size, localHeaderOffset };
    if (unixMode & 0o777) entry.mode = unixMode & 0o777;
    entries.push(entry);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The entry's path under `target`, or an error when its name would escape it. */
export function entryTarget(target: string, name: string): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || parts.includes('..') || parts.length === 0) {
    throw new ZipError(`The zip entry ${JSON.stringify(name)} would be written outside the package directory.`);
  }
  return path.join(target, ...parts);
}

function entryData(zip: Buffer, entry: ZipEntry): Buffer {
  const offset = entry.localHeaderOffset;
  if (offset + 30 > zip.length || zip.readUInt32LE(offset) !== LOCAL_HEADER) throw new ZipError(`The zip entry ${entry.name} is corrupt.`);
  const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
  const compressed = zip.subarray(start, start + entry.compressedSize);
  if (compressed.length !== entry.compressedSize) throw new ZipError(`The zip entry ${entry.name} is truncated.`);
  let data: Buffer;
  if (entry.method === 0) data = compressed;
  else if (entry.method === 8) {
    try {
      // Never inflate past the declared size: a lying header cannot fill the disk.
      data = entry.size === 0 ? Buffer.alloc(0) : zlib.inflateRawSync(compressed, { maxOutputLength: entry.size });
    } catch (error) {
      throw new ZipError(`The zip entry ${entry.name} could not be inflated: ${(error as Error).message}`);
    }
  } else throw new ZipError(`The zip entry ${entry.name} uses compression method ${entry.method}; only stored and deflated entries are supported.`);
  if (data.length !== entry.size) throw new ZipError(`The zip entry ${entry.name} does not have its declared size.`);
  if (zlib.crc32(data) >>> 0 !== entry.crc32 >>> 0) throw new ZipError(`The zip entry ${entry.name} fails its CRC check.`);
  return data;
}

/** Unpacks the archive into `target` (which must exist and be empty). */
export async function extractZip(zip: Buffer, target: string): Promise<void> {
  const entries = readZipEntries(zip);
  for (const entry of entries) {
    const destination = entryTarget(target, entry.name);
    if (entry.isDirectory) {
      await fs.mkdir(destination, { recursive: true, mode: 0o755 });
      continue;
    }
    const data = entryData(zip, entry);
    await fs.mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
    // 'wx': an archive that names a file twice fails instead of overwriting.
    await fs.writeFile(destination, data, { flag: 'wx', mode: entry.mode ?? 0o644 });
    if (entry.mode !== undefined) await fs.chmod(destination, entry.mode);
  }
}
