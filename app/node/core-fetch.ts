/*
 * Fetching a core file out of the running guest, during the Run, over its console — the one way
 * files leave a LaneOS guest (os/programs/upload: `ci-boot --upload` uses it too; no second
 * transfer path). When the Crashes view asks for a core, the fetcher waits until the console has
 * been quiet for a moment at the shell's prompt, types `upload GUEST_PATH`, and reads the records
 * the guest's `upload` writes:
 *
 *   @@lanes-upload 1 PATH
 *   F . SIZE BASE64              the file (a single file's path is ".")
 *   E . REASON                   it could not be read
 *   @@lanes-upload-end ENTRIES BYTES
 *
 * The console panel does not show the typed command's echo nor the records (Runner.consoleFilter):
 * one dim line says what was copied instead. Any other line in between (the kernel log) is shown.
 * A command the shell did not run as an upload (a prompt came back with no records) fails with
 * what the guest printed. Fetches are one at a time, in order; a new Run fails what is pending. A
 * transfer that arrives damaged (bytes lost on the serial line: the counts do not add up) is asked
 * for again, twice at most.
 */

export interface CoreFetcherOptions {
  /** The shell's prompt at the end of the console (LaneOS's sh: "lanes$ "). */
  prompt?: RegExp;
  /** Quiet time at the prompt before typing (ms). */
  idleMs?: number;
  /** One fetch may take this long (ms). */
  timeoutMs?: number;
  /** How often a transfer damaged on the way (bytes lost on the serial line) is asked for again. */
  retries?: number;
}

interface Job {
  gen: number;
  guest: string;
  /** attempts left after this one (a transfer damaged on the way is asked for again) */
  retries: number;
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

interface Capture {
  job: Job;
  /** the record lines seen so far */
  records: string[];
  /** the lines shown meanwhile (not records) */
  other: string[];
  started: boolean;
  partial: string;
  timer: NodeJS.Timeout;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A guest path `upload` gets typed with: no blanks, quotes or control characters (the shell would split it). */
export function typeablePath(p: string): boolean {
  return /^\/[A-Za-z0-9._:,+=@/-]+$/.test(p) && !p.split('/').includes('..');
}

/**
 * Decodes the records of one uploaded file (what `upload FILE` wrote); throws naming what is wrong
 * (the guest could not read it, a record damaged or lost on the way).
 */
export function decodeUploadedFile(lines: string[], guest: string): Buffer {
  const start = lines.findIndex((l) => l.startsWith('@@lanes-upload 1 '));
  const end = lines.findIndex((l) => l.startsWith('@@lanes-upload-end '));
  if (start < 0 || end < start) throw new Error(`no @@lanes-upload … @@lanes-upload-end records for ${guest} in the guest's output`);
  const [wantEntries, wantBytes] = lines[end]!.split(' ').slice(1, 3).map(Number) as [number, number];
  let entries = 0;
  let file: Buffer | null = null;
  for (const l of lines.slice(start + 1, end)) {
    if (l.length < 3 || l[1] !== ' ' || !'DLFE'.includes(l[0]!)) continue; // a kernel log line in between
    entries++;
    const f = l.slice(2).split(' ');
    if (l[0] === 'E') throw new Error(`the guest could not read ${guest}: ${f.slice(1).join(' ')}`);
    if (l[0] !== 'F') throw new Error(`${guest} is not a file in the guest (${l[0] === 'D' ? 'a directory' : 'a symlink'})`);
    const size = Number(f[1]);
    const data = f.length === 3 ? Buffer.from(f[2]!, 'base64') : Buffer.alloc(0);
    if (!Number.isSafeInteger(size) || data.length !== size || (f.length === 3 && data.toString('base64') !== f[2]))
      throw new Error(`${guest}: ${data.length} bytes arrived, ${f[1]} were sent (a record was damaged on the way)`);
    file = data;
  }
  if (entries !== wantEntries || (file?.length ?? 0) !== wantBytes)
    throw new Error(`${guest}: ${entries} records and ${file?.length ?? 0} bytes arrived, the guest sent ${wantEntries} and ${wantBytes}`);
  if (!file) throw new Error(`${guest}: the guest sent no file`);
  return file;
}

export class CoreFetcher {
  private gen = -1;
  private tail = '';
  private queue: Job[] = [];
  private cap: Capture | null = null;
  private idle: NodeJS.Timeout | undefined;
  private readonly prompt: RegExp;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly retries: number;

  /** write: types into the guest's console (Runner.consoleInput). */
  constructor(private readonly write: (data: string) => void, o: CoreFetcherOptions = {}) {
    this.prompt = o.prompt ?? /lanes\$ $/;
    this.idleMs = o.idleMs ?? 250;
    this.timeoutMs = o.timeoutMs ?? 120000;
    this.retries = o.retries ?? 2;
  }

  /** Copies the guest file `guest` of Run `gen`; resolves with its bytes. */
  fetch(gen: number, guest: string): Promise<Buffer> {
    if (!typeablePath(guest)) return Promise.reject(new Error(`cannot type ${JSON.stringify(guest)} into the guest's shell`));
    if (gen !== this.gen) this.newRun(gen);
    return new Promise((resolve, reject) => {
      this.queue.push({ gen, guest, retries: this.retries, resolve, reject });
      this.schedule();
    });
  }

  /** Whether a fetch is pending or under way. */
  get busy(): boolean {
    return this.cap !== null || this.queue.length > 0;
  }

  private newRun(gen: number): void {
    this.gen = gen;
    this.tail = '';
    const why = new Error('the Run ended before the core was copied');
    if (this.cap) this.finish(why);
    for (const j of this.queue.splice(0)) j.reject(why);
  }

  /** The console's chunk of Run `gen`: what the console panel shows of it (Runner.consoleFilter). */
  filter(gen: number, data: string): string {
    if (gen !== this.gen) this.newRun(gen);
    if (!this.cap) {
      this.tail = (this.tail + data).slice(-256);
      this.schedule();
      return data;
    }
    const c = this.cap;
    const parts = (c.partial + data).split('\n');
    c.partial = parts.pop() ?? '';
    let shown = '';
    for (const [i, raw] of parts.entries()) {
      const l = raw.replace(ANSI, '').replace(/\r/g, '');
      if (l.startsWith('@@lanes-upload 1 ')) c.started = true;
      const record = c.started ? /^(@@lanes-upload|[DLFE] )/.test(l) : l.includes(`upload ${c.job.guest}`);
      if (record) c.records.push(l);
      else {
        c.other.push(l);
        shown += `${raw}\n`;
      }
      if (l.startsWith('@@lanes-upload-end ')) {
        const rest = [...parts.slice(i + 1), c.partial].join('\n');
        const note = this.finish(null);
        this.tail = rest.slice(-256);
        this.schedule();
        return shown + note + rest;
      }
    }
    // the prompt came back after the records began but without their end: bytes lost on the way
    if (c.started && this.prompt.test(c.partial.replace(ANSI, ''))) {
      const rest = c.partial;
      const note = this.finish(new Error(`${c.job.guest}: ${c.records.length} records arrived, the end record did not (bytes lost on the way)`));
      this.tail = rest;
      this.schedule();
      return shown + note + rest;
    }
    // the prompt came back with no records: the shell did not run it as an upload
    if (!c.started && this.prompt.test(c.partial.replace(ANSI, '')) && c.records.length) {
      const out = c.other.join(' ').trim();
      const rest = c.partial;
      this.finish(new Error(`upload ${c.job.guest} did not run in the guest${out ? `: ${out.slice(0, 200)}` : ''}`));
      this.tail = rest;
      return shown + rest;
    }
    return shown;
  }

  private schedule(): void {
    if (this.cap || !this.queue.length) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.maybeStart(), this.idleMs);
  }

  private maybeStart(): void {
    if (this.cap || !this.queue.length) return;
    if (!this.prompt.test(this.tail.replace(ANSI, ''))) return; // not at the prompt (a program runs): wait for it
    const job = this.queue.shift()!;
    if (job.gen !== this.gen) {
      job.reject(new Error('the Run ended before the core was copied'));
      this.schedule();
      return;
    }
    const timer = setTimeout(() => this.finish(new Error(`no complete upload of ${job.guest} within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    this.cap = { job, records: [], other: [], started: false, partial: '', timer };
    this.tail = '';
    try {
      this.write(`upload ${job.guest}\r`);
    } catch (e) {
      this.finish(e as Error);
    }
  }

  /** Ends the capture: decodes (err null) or fails it; returns the console's note about it. */
  private finish(err: Error | null): string {
    const c = this.cap;
    if (!c) return '';
    this.cap = null;
    clearTimeout(c.timer);
    if (err) {
      if (c.job.retries > 0 && / arrived, /.test(err.message)) {
        this.queue.unshift({ ...c.job, retries: c.job.retries - 1 });
        this.schedule();
        return `\x1b[2m[Lanescope: ${err.message}; asking for ${c.job.guest} again]\x1b[0m\r\n`;
      }
      c.job.reject(err);
      this.schedule();
      return '';
    }
    try {
      const b = decodeUploadedFile(c.records, c.job.guest);
      c.job.resolve(b);
      return `\x1b[2m[Lanescope copied ${c.job.guest} (${b.length.toLocaleString('en-US')} bytes) out of the guest: see Crashes]\x1b[0m\r\n`;
    } catch (e) {
      const msg = (e as Error).message;
      if (c.job.retries > 0 && / arrived, /.test(msg)) {
        // bytes lost on the way (a busy guest's console ring pushes the oldest out): once more
        this.queue.unshift({ ...c.job, retries: c.job.retries - 1 });
        this.schedule();
        return `\x1b[2m[Lanescope: ${msg}; asking for ${c.job.guest} again]\x1b[0m\r\n`;
      }
      c.job.reject(e as Error);
      return `\x1b[2m[Lanescope could not copy ${c.job.guest}: ${msg}]\x1b[0m\r\n`;
    }
  }

  /** Fails everything (Lanescope is closing). */
  dispose(): void {
    clearTimeout(this.idle);
    this.newRun(this.gen + 1);
  }
}
