/*
 * mi-driver.ts — drive Debian's gdb through GDB/MI (mi3).
 *
 *   GdbMi.start() ─▶ spawn `gdb --interpreter=mi3 -nx -q`
 *   cmd("-break-insert main") ─▶ "<token>-break-insert main\n" ─▶ ^done,bkpt={…} resolves
 *                                                               ^error,msg="…" rejects (gdb's message)
 *   *stopped / *running / =thread-… ─▶ events 'stopped', 'running', 'notify'
 *   ~ @ & streams ─▶ 'console' / 'target' / 'log' events (and captured per command)
 *   gdb exiting or crashing ─▶ every pending command rejects, 'exit' event with the reason
 *
 * mi-async is switched on so -exec-interrupt works while the target runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { miList, miQuote, miStr, miTuple, parseMiLine, type MiRecord, type MiTuple, type MiValue } from '../common/mi.js';

export class GdbError extends Error {
  constructor(message: string, readonly command: string) {
    super(message);
    this.name = 'GdbError';
  }
}

export interface MiResult {
  class: string;
  data: MiTuple;
  /** Console stream text printed while the command ran. */
  console: string;
}

interface Pending {
  command: string;
  sentAt: number;
  resolve: (r: MiResult) => void;
  reject: (e: Error) => void;
  console: string;
  timer: NodeJS.Timeout | undefined;
}

export interface Frame {
  level: number;
  addr: string;
  func?: string;
  file?: string;
  fullname?: string;
  line?: number;
  arch?: string;
}

export interface Variable {
  name: string;
  value?: string;
  type?: string;
  arg?: boolean;
}

export interface VarObject {
  name: string;
  numchild: number;
  value?: string;
  type?: string;
  exp?: string;
}

export interface StartOptions {
  gdbPath?: string;
  args?: string[];
  cwd?: string;
  /** Default time limit for a command's ^result. */
  timeoutMs?: number;
}

/** Events: 'command' ({command, ms, ok}: a command answered, with its latency), 'stopped' (MiTuple), 'running' (MiTuple), 'notify' ({class, data}), 'console'|'target'|'log' (text), 'exit' ({code, signal, message}), 'unparsed' ({text, error}). */
export class GdbMi extends EventEmitter {
  private next = 1;
  private pending = new Map<number, Pending>();
  private buf = '';
  private exited = false;
  exitMessage: string | undefined;
  stderr = '';
  readonly exitedPromise: Promise<void>;
  private readonly timeoutMs: number;
  /** Commands sent so far (the debug session counts them per stop). */
  commandCount = 0;
  /** Register names (fixed for a target description; cleared when another file or target is loaded). */
  private regNamesCache: string[] | undefined;

  static async start(opts: StartOptions = {}): Promise<GdbMi> {
    const g = new GdbMi(opts);
    await g.ready();
    return g;
  }

  readonly proc: ChildProcess;
  private constructor(opts: StartOptions) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 30000;
    this.proc = spawn(opts.gdbPath ?? 'gdb', ['--interpreter=mi3', '-nx', '-q', ...(opts.args ?? [])], {
      stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => this.onData(d));
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.proc.stdin!.on('error', () => undefined);
    this.exitedPromise = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
        if (this.exited) return;
        this.exited = true;
        this.exitMessage = err ? `cannot run gdb: ${err.message}`
          : signal ? `gdb crashed (killed by ${signal})${this.stderr ? ': ' + this.stderr.trim().slice(-300) : ''}`
          : `gdb exited with status ${code}`;
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new GdbError(`${this.exitMessage} before answering "${p.command}"`, p.command));
        }
        this.pending.clear();
        this.emit('exit', { code, signal, message: this.exitMessage });
        resolve();
      };
      this.proc.once('exit', (c, s) => done(c, s));
      this.proc.once('error', (e) => done(null, null, e));
    });
  }

  private async ready(): Promise<void> {
    await this.cmd('-gdb-set mi-async on');
    await this.cmd('-gdb-set pagination off');
    await this.cmd('-gdb-set confirm off');
    await this.cmd('-gdb-set width 0');
  }

  get isRunning(): boolean {
    return !this.exited;
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (line.length > 0) this.onRecord(parseMiLine(line));
    }
  }

  private onRecord(r: MiRecord): void {
    this.emit('record', r);
    switch (r.type) {
      case 'result': {
        const p = r.token !== undefined ? this.pending.get(r.token) : undefined;
        if (!p) return;
        this.pending.delete(r.token!);
        clearTimeout(p.timer);
        // for profiles: every command with its latency (sent → ^result), e.g. the debug session's per-stop log
        if (this.listenerCount('command') > 0) this.emit('command', { command: p.command, ms: performance.now() - p.sentAt, ok: r.class !== 'error' });
        if (r.class === 'error') p.reject(new GdbError(miStr(r.data.msg) ?? 'gdb reported an error', p.command));
        else p.resolve({ class: r.class, data: r.data, console: p.console });
        return;
      }
      case 'exec':
        if (r.class === 'stopped') this.emit('stopped', r.data);
        else if (r.class === 'running') this.emit('running', r.data);
        return;
      case 'notify':
      case 'status':
        this.emit('notify', { class: r.class, data: r.data });
        return;
      case 'console':
      case 'target':
      case 'log':
        for (const p of this.pending.values()) if (r.type === 'console') p.console += r.text;
        this.emit(r.type, r.text);
        return;
      case 'unparsed':
        this.emit('unparsed', { text: r.text, error: r.error });
        return;
      default:
    }
  }

  /** Send one MI command; resolves on ^done/^running/^connected/^exit, rejects on ^error. */
  cmd(command: string, timeoutMs = this.timeoutMs): Promise<MiResult> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new GdbError(`${this.exitMessage}; cannot run "${command}"`, command));
        return;
      }
      if (/[\r\n]/.test(command)) {
        reject(new GdbError(`MI command contains a newline: ${JSON.stringify(command)}`, command));
        return;
      }
      const token = this.next++;
      const p: Pending = { command, sentAt: performance.now(), resolve, reject, console: '', timer: undefined };
      this.commandCount++;
      if (/^-(file-|target-select|target-disconnect)/.test(command)) this.regNamesCache = undefined;
      p.timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new GdbError(`gdb did not answer "${command}" within ${timeoutMs} ms`, command));
      }, timeoutMs);
      this.pending.set(token, p);
      this.proc.stdin!.write(`${token}${command}\n`);
    });
  }

  /** Run a CLI command and return what it printed. */
  async console(cli: string): Promise<string> {
    return (await this.cmd(`-interpreter-exec console ${miQuote(cli)}`)).console;
  }

  /** Resolve with the next *stopped record (reject on timeout or gdb exit). */
  waitForStop(timeoutMs = this.timeoutMs): Promise<MiTuple> {
    return new Promise((resolve, reject) => {
      const onStop = (d: MiTuple) => { cleanup(); resolve(d); };
      const onExit = () => { cleanup(); reject(new GdbError(`${this.exitMessage} while waiting for the target to stop`, '*stopped')); };
      const t = setTimeout(() => { cleanup(); reject(new GdbError(`target did not stop within ${timeoutMs} ms`, '*stopped')); }, timeoutMs);
      const cleanup = () => { clearTimeout(t); this.off('stopped', onStop); this.off('exit', onExit); };
      this.on('stopped', onStop);
      this.on('exit', onExit);
    });
  }

  /* ----------------------------------------------------------- symbols / target */

  loadFile(path: string): Promise<MiResult> {
    return this.cmd(`-file-exec-and-symbols ${miQuote(path)}`);
  }

  symbolFile(path: string): Promise<MiResult> {
    return this.cmd(`-file-symbol-file ${miQuote(path)}`);
  }

  /** Add a user program's symbols: at its link addresses, or with text at `textAddr`, or shifted by `offset`. */
  addSymbolFile(path: string, where: { textAddr?: bigint; offset?: bigint } = {}): Promise<string> {
    const at = where.textAddr !== undefined ? ` 0x${where.textAddr.toString(16)}`
      : where.offset !== undefined ? ` -o 0x${where.offset.toString(16)}` : '';
    return this.console(`add-symbol-file ${path}${at}`);
  }

  connect(hostPort: string): Promise<MiResult> {
    return this.cmd(`-target-select remote ${hostPort}`);
  }

  disconnect(): Promise<MiResult> {
    return this.cmd('-target-disconnect');
  }

  /* ----------------------------------------------------------- breakpoints */

  async breakInsert(location: string, o: { hardware?: boolean; condition?: string; temporary?: boolean } = {}): Promise<MiTuple> {
    const flags = `${o.hardware ? '-h ' : ''}${o.temporary ? '-t ' : ''}${o.condition ? `-c ${miQuote(o.condition)} ` : ''}`;
    const r = await this.cmd(`-break-insert ${flags}${location}`);
    return miTuple(r.data.bkpt) ?? {};
  }

  breakDelete(number: string | number): Promise<MiResult> {
    return this.cmd(`-break-delete ${number}`);
  }

  breakCondition(number: string | number, condition: string): Promise<MiResult> {
    return this.cmd(`-break-condition ${number} ${condition}`);
  }

  async breakList(): Promise<MiTuple[]> {
    const r = await this.cmd('-break-list');
    return miList(miTuple(r.data.BreakpointTable)?.body).map((b) => miTuple(b)!).filter(Boolean);
  }

  /* ----------------------------------------------------------- execution */

  execContinue(): Promise<MiResult> { return this.cmd('-exec-continue'); }
  execNext(): Promise<MiResult> { return this.cmd('-exec-next'); }
  execStep(): Promise<MiResult> { return this.cmd('-exec-step'); }
  execFinish(): Promise<MiResult> { return this.cmd('-exec-finish'); }
  execNextInstruction(): Promise<MiResult> { return this.cmd('-exec-next-instruction'); }
  execStepInstruction(): Promise<MiResult> { return this.cmd('-exec-step-instruction'); }
  execInterrupt(): Promise<MiResult> { return this.cmd('-exec-interrupt'); }

  /** Issue an execution command and wait for the resulting *stopped. */
  async run(command: 'continue' | 'next' | 'step' | 'finish' | 'next-instruction' | 'step-instruction', timeoutMs = this.timeoutMs): Promise<MiTuple> {
    const stopped = this.waitForStop(timeoutMs);
    try {
      await this.cmd(`-exec-${command}`);
    } catch (e) {
      stopped.catch(() => undefined);
      throw e;
    }
    return stopped;
  }

  /* ----------------------------------------------------------- inspection */

  async stackListFrames(): Promise<Frame[]> {
    const r = await this.cmd('-stack-list-frames');
    return miList(r.data.stack).map((f) => toFrame(miTuple(f) ?? {}));
  }

  async stackListVariables(frame?: { thread?: string; level?: number }): Promise<Variable[]> {
    const sel = frame?.level !== undefined ? `${frame.thread ? `--thread ${frame.thread} ` : ''}--frame ${frame.level} ` : '';
    const r = await this.cmd(`-stack-list-variables ${sel}--all-values`);
    return miList(r.data.variables).map((v) => {
      const t = miTuple(v) ?? {};
      return { name: miStr(t.name) ?? '', ...(t.value !== undefined ? { value: miStr(t.value)! } : {}),
        ...(t.type !== undefined ? { type: miStr(t.type)! } : {}), ...(t.arg === '1' ? { arg: true } : {}) };
    });
  }

  async varCreate(expression: string, frame: '*' | '@' = '*'): Promise<VarObject> {
    const r = await this.cmd(`-var-create - ${frame} ${miQuote(expression)}`);
    return toVar(r.data);
  }

  async varListChildren(name: string): Promise<VarObject[]> {
    const r = await this.cmd(`-var-list-children --all-values ${name}`);
    return miList(r.data.children).map((c) => toVar(miTuple(c) ?? {}));
  }

  varDelete(name: string): Promise<MiResult> {
    return this.cmd(`-var-delete ${name}`);
  }

  async evaluate(expression: string): Promise<string> {
    const r = await this.cmd(`-data-evaluate-expression ${miQuote(expression)}`);
    return miStr(r.data.value) ?? '';
  }

  /** The target's register names (asked once per loaded file / target: they do not change between stops). */
  async registerNames(): Promise<string[]> {
    if (this.regNamesCache) return this.regNamesCache;
    const r = await this.cmd('-data-list-register-names');
    const names = miList(r.data['register-names']).map((n) => miStr(n) ?? '');
    if (names.length) this.regNamesCache = names;
    return names;
  }

  /** Register values by name (fmt x = hex, N = natural). Empty names (gaps) are skipped. */
  async registerValues(fmt: 'x' | 'N' = 'x', names?: string[]): Promise<Map<string, string>> {
    const all = await this.registerNames();
    let nums = '';
    if (names) {
      const idx = names.map((n) => {
        const i = all.indexOf(n);
        if (i < 0) throw new GdbError(`no register named "${n}"`, '-data-list-register-values');
        return i;
      });
      nums = ' ' + idx.join(' ');
    }
    const r = await this.cmd(`-data-list-register-values ${fmt}${nums}`);
    const out = new Map<string, string>();
    for (const v of miList(r.data['register-values'])) {
      const t = miTuple(v) ?? {};
      const name = all[Number(miStr(t.number))];
      if (name) out.set(name, miStr(t.value) ?? '');
    }
    return out;
  }

  async readMemory(address: string | bigint, count: number): Promise<Uint8Array> {
    const a = typeof address === 'bigint' ? `0x${address.toString(16)}` : address;
    const r = await this.cmd(`-data-read-memory-bytes ${a} ${count}`);
    const out = new Uint8Array(count);
    const base = typeof address === 'bigint' ? address : undefined;
    for (const blk of miList(r.data.memory)) {
      const t = miTuple(blk) ?? {};
      const begin = BigInt(miStr(t.begin) ?? '0');
      const off = base !== undefined ? Number(begin - base) : 0;
      const hex = miStr(t.contents) ?? '';
      out.set(Buffer.from(hex, 'hex'), off);
    }
    return out;
  }

  async disassemble(start: string | bigint, end: string | bigint, withSource = false): Promise<MiValue[]> {
    const f = (x: string | bigint) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x);
    const r = await this.cmd(`-data-disassemble -s ${f(start)} -e ${f(end)} -- ${withSource ? 5 : 0}`);
    return miList(r.data.asm_insns);
  }

  async threadInfo(): Promise<{ threads: MiTuple[]; current?: string }> {
    const r = await this.cmd('-thread-info');
    return { threads: miList(r.data.threads).map((t) => miTuple(t) ?? {}),
      ...(miStr(r.data['current-thread-id']) ? { current: miStr(r.data['current-thread-id'])! } : {}) };
  }

  selectThread(id: string): Promise<MiResult> {
    return this.cmd(`-thread-select ${id}`);
  }

  /** Quit gdb (detaching from a remote target); kills it if it does not exit. */
  async exit(timeoutMs = 5000): Promise<void> {
    if (this.exited) return;
    this.proc.stdin!.write(`-gdb-exit\n`);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exitedPromise;
    clearTimeout(t);
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

function toFrame(t: MiTuple): Frame {
  return {
    level: Number(miStr(t.level) ?? 0), addr: miStr(t.addr) ?? '',
    ...(miStr(t.func) ? { func: miStr(t.func)! } : {}), ...(miStr(t.file) ? { file: miStr(t.file)! } : {}),
    ...(miStr(t.fullname) ? { fullname: miStr(t.fullname)! } : {}), ...(miStr(t.line) ? { line: Number(miStr(t.line)) } : {}),
    ...(miStr(t.arch) ? { arch: miStr(t.arch)! } : {}),
  };
}

function toVar(t: MiTuple): VarObject {
  return {
    name: miStr(t.name) ?? '', numchild: Number(miStr(t.numchild) ?? 0),
    ...(miStr(t.value) !== undefined ? { value: miStr(t.value)! } : {}),
    ...(miStr(t.type) ? { type: miStr(t.type)! } : {}), ...(miStr(t.exp) ? { exp: miStr(t.exp)! } : {}),
  };
}
