/**
 * An absolute path as a `file:` URL (what `import()` needs), percent-encoding what a URL must.
 *
 * @module
 */

/** Converts an absolute POSIX path to a file URL. */
export function toFileUrl(path: string): string {
  const url = new URL("file:///");
  url.pathname = path;
  return url.href;
}
