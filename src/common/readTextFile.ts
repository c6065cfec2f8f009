// Reads a text file the way the editor would hand it over: a regular file only (not /dev/zero, a
// pipe or a folder), and no larger than VS Code lets extensions see a document (50 MB), so a
// mistaken path cannot make the process read without end.
import fs from 'node:fs';

export const MAX_TEXT_FILE_BYTES = 50 * 1024 * 1024;

export class TextFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextFileError';
  }
}

/** UTF-8 text of `file`, a leading byte-order mark dropped (as VS Code does). */
export function readTextFile(file: string, maxBytes = MAX_TEXT_FILE_BYTES): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new TextFileError(`${file} is not a regular file (${stat.isDirectory() ? 'a folder' : 'a device, pipe or socket'}) — give the path of a source file`);
    if (stat.size > maxBytes) throw new TextFileError(`${file} is ${(stat.size / 1024 ** 2).toFixed(1)} MB, more than the ${maxBytes / 1024 ** 2} MB the editor would open for an extension`);
    // The size can lie (files in /proc say 0): stop one chunk past the limit whatever it said.
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(1 << 20);
    let length = 0;
    for (let n = fs.readSync(fd, chunk, 0, chunk.length, null); n > 0; n = fs.readSync(fd, chunk, 0, chunk.length, null)) {
      length += n;
      if (length > maxBytes) throw new TextFileError(`${file} is more than the ${maxBytes / 1024 ** 2} MB the editor would open for an extension`);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, length).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    fs.closeSync(fd);
  }
}
