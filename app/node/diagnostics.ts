/*
 * Parses gcc, as, ld and make output into Diagnostics.
 *
 * gcc/as:  path:line:col: error|warning|note|fatal error: message        (col optional)
 * ld:      /usr/bin/ld: obj.o: in function `f':  then  path:line:(.text+0x1a): undefined reference to `g'
 *          /usr/bin/ld: path:line: message   and   /usr/bin/ld: cannot find -lfoo / other errors
 * make:    make[1]: Entering directory '/abs/dir'   (tracked so relative paths resolve)
 *          Makefile:12: *** missing separator.  Stop.
 *          make: *** [Makefile:3: all] Error 1      (summaries: kept only when nothing else was found)
 *          make: *** No rule to make target 'x', needed by 'y'.  Stop.
 * Paths are resolved against the directory make was in and reported project-relative when inside.
 * Under `make -j` the sub-makes' "Entering"/"Leaving" lines interleave with other directories'
 * compiler output, so the innermost directory is only a guess: a relative path goes to the
 * innermost directory on the stack (then the build's own) where that file exists, and to the
 * innermost one when it exists nowhere (a file the build deleted, a generated one).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic, Severity } from '../common/contract.js';
import { toProjectRelative } from './paths.js';

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export class DiagnosticsParser {
  private dirStack: string[];
  private pending = '';
  readonly diagnostics: Diagnostic[] = [];
  private makeSummaries: Diagnostic[] = [];
  private seen = new Set<string>();

  constructor(private readonly root: string, cwd: string = root) {
    this.dirStack = [cwd];
  }

  /** Feed a chunk of output (may split lines anywhere). */
  push(chunk: string): void {
    const text = this.pending + chunk;
    const lines = text.split(/\r?\n/);
    this.pending = lines.pop() ?? '';
    for (const l of lines) this.line(stripAnsi(l));
  }

  /** Flush the last partial line and return all diagnostics. */
  finish(): Diagnostic[] {
    if (this.pending) this.line(stripAnsi(this.pending));
    this.pending = '';
    if (!this.diagnostics.some((d) => d.severity === 'error')) for (const d of this.makeSummaries) this.add(d);
    return this.diagnostics;
  }

  private get cwd(): string {
    return this.dirStack[this.dirStack.length - 1] ?? this.root;
  }

  private file(p: string): string {
    let abs = path.resolve(this.cwd, p);
    if (!path.isAbsolute(p) && !fs.existsSync(abs)) {
      for (let i = this.dirStack.length - 2; i >= 0; i--) {
        const there = path.resolve(this.dirStack[i]!, p);
        if (fs.existsSync(there)) {
          abs = there;
          break;
        }
      }
    }
    return toProjectRelative(this.root, abs) ?? abs;
  }

  private add(d: Diagnostic): void {
    const key = `${d.file}:${d.line}:${d.column}:${d.severity}:${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push(d);
  }

  private line(l: string): void {
    let m: RegExpExecArray | null;
    // make directory tracking
    if ((m = /^make(?:\[\d+\])?: Entering directory [`'](.*)'$/.exec(l))) {
      this.dirStack.push(m[1] ?? this.cwd);
      return;
    }
    if (/^make(?:\[\d+\])?: Leaving directory /.test(l)) {
      if (this.dirStack.length > 1) this.dirStack.pop();
      return;
    }
    // make: errors inside a makefile ("Makefile:12: *** missing separator.  Stop.")
    if ((m = /^(?!make(?:\[\d+\])?:)([^:\s][^:]*):(\d+): \*\*\* (.*?)\.?(?:\s+Stop\.)?$/.exec(l))) {
      this.add({ file: this.file(m[1]!), line: Number(m[2]), column: 1, severity: 'error', message: m[3]!, source: 'make' });
      return;
    }
    // make: *** [Makefile:3: target] Error 1   /  make: *** No rule to make target ...
    if ((m = /^make(?:\[\d+\])?: \*\*\* (.*)$/.exec(l))) {
      const msg = m[1]!;
      if (/^Waiting for unfinished jobs/.test(msg)) return;
      const loc = /^\[([^:\]]+):(\d+): ([^\]]+)\] (Error \d+|Segmentation fault.*|Killed.*)/.exec(msg);
      if (loc) {
        this.makeSummaries.push({ file: this.file(loc[1]!), line: Number(loc[2]), column: 1, severity: 'error', message: `${loc[4]} while making ${loc[3]}`, source: 'make' });
      } else if (/^\[.*\] Error \d+/.test(msg)) {
        this.makeSummaries.push({ file: 'Makefile', line: 1, column: 1, severity: 'error', message: msg, source: 'make' });
      } else {
        this.add({ file: this.file('Makefile'), line: 1, column: 1, severity: 'error', message: msg.replace(/\.\s+Stop\.$/, ''), source: 'make' });
      }
      return;
    }
    // ld: "/usr/bin/ld: file.c:12:(.text+0x1a): undefined reference to `x'" or "ld: file.o:file.c:12: ..."
    if ((m = /^(?:\S*\/)?(?:ld|ld\.bfd|ld\.gold|x86_64-[\w-]*ld)(?:\.\w+)?: (.*)$/.exec(l))) {
      const rest = m[1]!;
      let r: RegExpExecArray | null;
      if ((r = /^(?:[^:]+\.o:)?([^:\s][^:]*):(\d+):(?:\([^)]*\):)?\s*(.*)$/.exec(rest)) && !/^in function/.test(r[3] ?? '')) {
        this.add({ file: this.file(r[1]!), line: Number(r[2]), column: 1, severity: /warning:/.test(r[3]!) ? 'warning' : 'error', message: r[3]!.replace(/^(warning|error): /, ''), source: 'ld' });
        return;
      }
      if (/in function [`'‘].*['’]:$/.test(rest)) return;
      const sev: Severity = /^warning:/.test(rest) ? 'warning' : 'error';
      if (sev === 'warning' && /has a LOAD segment with RWX|missing \.note\.GNU-stack/.test(rest)) {
        this.add({ file: 'linker', line: 1, column: 1, severity: 'warning', message: rest.replace(/^warning: /, ''), source: 'ld' });
        return;
      }
      this.add({ file: 'linker', line: 1, column: 1, severity: sev, message: rest.replace(/^(warning|error): /, ''), source: 'ld' });
      return;
    }
    // ld with debug info prints plain "file.c:12:(.text+0x1a): undefined reference" lines too
    if ((m = /^([^:\s][^:]*):(\d+):\(([^)]*)\): (.*)$/.exec(l))) {
      this.add({ file: this.file(m[1]!), line: Number(m[2]), column: 1, severity: 'error', message: m[4]!, source: 'ld' });
      return;
    }
    if ((m = /^([^:\s][^:]*):(\d+): ((?:undefined reference|multiple definition|relocation truncated|more undefined references|first defined here).*)$/.exec(l))) {
      const note = m[3]!.startsWith('first defined here');
      this.add({ file: this.file(m[1]!), line: Number(m[2]), column: 1, severity: note ? 'note' : 'error', message: m[3]!, source: 'ld' });
      return;
    }
    // gcc / as
    if ((m = /^([^:\s][^:]*):(\d+):(?:(\d+):)? (fatal error|error|warning|note|Error|Warning|Assembler messages): ?(.*)$/.exec(l))) {
      const kind = m[4]!.toLowerCase();
      const severity: Severity = kind.includes('error') ? 'error' : kind === 'warning' ? 'warning' : 'note';
      const isAs = m[4] === 'Error' || m[4] === 'Warning' || /\.(s|S|asm)$/.test(m[1]!);
      this.add({ file: this.file(m[1]!), line: Number(m[2]), column: m[3] ? Number(m[3]) : 1, severity, message: m[5]!, source: isAs ? 'as' : 'gcc' });
      return;
    }
    // collect2: error: ld returned 1 exit status — redundant with the ld lines; ignore.
  }
}

export function parseDiagnostics(root: string, output: string, cwd: string = root): Diagnostic[] {
  const p = new DiagnosticsParser(root, cwd);
  p.push(output);
  return p.finish();
}
