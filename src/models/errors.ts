// Named errors of the model manager: each says what failed (which URL, which file) and what to do.
// Shown once by the host layer; an aborted download is named AbortError, which is never shown.

export class ModelDownloadError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The server answered with an HTTP error status. */
export class DownloadHttpError extends ModelDownloadError {
  constructor(readonly url: string, readonly status: number) {
    const advice = status === 404 ? 'the file is not on that server: check flashcode.models.hubUrl and the repo id, or pick another model'
      : status === 401 || status === 403 ? 'the repo is gated or private: Flashcode downloads public files only; accept its licence on the hub and download it yourself, then import it with `node dist/cli.js import`'
        : status === 429 ? 'the server is rate-limiting downloads: try again in a few minutes'
          : status >= 500 ? 'the server failed: try again later (what was downloaded so far is kept and resumed)'
            : 'try again, or pick another model';
    super('DownloadHttpError', `${url} answered HTTP ${status} — ${advice}.`);
  }
}

/** The connection failed or was cut; the partial file is kept, so a retry resumes. */
export class DownloadNetworkError extends ModelDownloadError {
  constructor(readonly url: string, cause: string) {
    super('DownloadNetworkError', `downloading ${url} failed (${cause}) — check the connection and try again; what was downloaded so far is kept and resumed.`);
  }
}

/** A redirect Flashcode does not follow: to plain http on another origin, or one too many. */
export class DownloadRedirectError extends ModelDownloadError {
  constructor(readonly url: string, why: string) {
    super('DownloadRedirectError', `${url}: ${why} — set flashcode.models.hubUrl to an https mirror that serves the file.`);
  }
}

/** The downloaded bytes do not hash to the catalog's or the hub's sha256; the file was deleted. */
export class DownloadChecksumError extends ModelDownloadError {
  constructor(readonly url: string, expected: string, actual: string, what = 'sha256') {
    super('DownloadChecksumError', `${url} does not match its ${what} (expected ${expected}, got ${actual}); the file was deleted — download it again, and if it fails again the server (or flashcode.models.hubUrl's mirror) serves a different file.`);
  }
}

/** The server sent a different number of bytes than the catalog or the hub says the file has. */
export class DownloadSizeError extends ModelDownloadError {
  constructor(readonly url: string, expected: number, actual: number) {
    super('DownloadSizeError', `${url} is ${actual} bytes, expected ${expected}; the file was deleted — download it again, or pick another model.`);
  }
}

/** Too little free disk for the download and the imported model, found before anything is fetched. */
export class InsufficientDiskSpaceError extends ModelDownloadError {
  constructor(readonly dir: string, readonly neededBytes: number, readonly freeBytes: number) {
    super('InsufficientDiskSpaceError', `${formatBytes(neededBytes)} of free disk needed in ${dir} (the download and the imported model), ${formatBytes(freeBytes)} free — free up ${formatBytes(neededBytes - freeBytes)} and try again.`);
  }
}

/** The hub's file listing lacks what a download needs (the file, its sha256). */
export class HubListingError extends ModelDownloadError {
  constructor(readonly repo: string, what: string) {
    super('HubListingError', `${repo}: ${what} — check the repo id and flashcode.models.hubUrl.`);
  }
}

export class DownloadAbortedError extends ModelDownloadError {
  constructor() {
    super('AbortError', 'the download was cancelled; what was downloaded so far is kept and resumed next time.');
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${bytes} B`;
}
