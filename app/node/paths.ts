/*
 * Path confinement. Every path the renderer names is project-relative; `resolveInProject` turns it
 * into an absolute path and refuses anything that would leave the project root — through `..`, an
 * absolute path, or a symbolic link anywhere along the way (checked on the real path on disk).
 */
import fs from 'node:fs';
import path from 'node:path';

export class PathError extends Error {}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolves `rel` inside `root`. For a path that does not exist yet, the nearest existing ancestor
 * is checked instead (so a new file can be created, but never through a link pointing outside).
 */
export function resolveInProject(root: string, rel: string): string {
  if (typeof rel !== 'string') throw new PathError('path must be a string');
  if (rel.includes('\0')) throw new PathError(`path contains a NUL byte: ${JSON.stringify(rel)}`);
  const realRoot = fs.realpathSync(root);
  const cleaned = rel.replace(/\\/g, '/');
  if (path.isAbsolute(cleaned)) {
    // Accept absolute paths only if they are inside the project.
    if (!isInside(realRoot, path.resolve(cleaned)) && !isInside(path.resolve(root), path.resolve(cleaned)))
      throw new PathError(`refused: ${rel} is outside the project`);
  }
  const abs = path.isAbsolute(cleaned)
    ? path.resolve(cleaned).replace(path.resolve(root), realRoot)
    : path.resolve(realRoot, cleaned);
  if (!isInside(realRoot, abs)) throw new PathError(`refused: ${rel} is outside the project`);
  // Walk up to the nearest existing ancestor and check its real path.
  let probe = abs;
  const missing: string[] = [];
  for (;;) {
    try {
      const real = fs.realpathSync(probe);
      if (!isInside(realRoot, real)) throw new PathError(`refused: ${rel} leads outside the project (symbolic link)`);
      return missing.length ? path.join(real, ...missing.reverse()) : real;
    } catch (e) {
      if (e instanceof PathError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      // A dangling symlink: refuse rather than create a file wherever it points.
      try {
        if (fs.lstatSync(probe).isSymbolicLink()) throw new PathError(`refused: ${rel} is a dangling symbolic link`);
      } catch (e2) {
        if (e2 instanceof PathError) throw e2;
      }
      missing.push(path.basename(probe));
      const up = path.dirname(probe);
      if (up === probe) throw new PathError(`refused: ${rel}`);
      probe = up;
    }
  }
}

/** Project-relative form of an absolute path (with '/' separators), or null when outside. */
export function toProjectRelative(root: string, abs: string): string | null {
  const rels = [path.relative(root, abs)];
  try {
    rels.push(path.relative(fs.realpathSync(root), abs));
  } catch {
    /* root vanished */
  }
  for (const r of rels) if (r !== '' && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
  return null;
}
