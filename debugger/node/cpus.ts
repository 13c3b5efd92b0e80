/*
 * cpus.ts — "CPUs as threads": what each vCPU is running, read from the kernel's own
 * structures through gdb.
 *
 * QEMU's gdbstub shows vCPU n as thread n+1 ("CPU#n [running]"); LaneOS's own stub shows the
 * kernel thread on each CPU, by its tid, with the CPU as its core (cpuOfThread). For each, gdb
 * evaluates the kernel's per-CPU data (LaneOS: `cpus[n]->current`, its `tid`, its
 * process's `pid` and `name`, and whether it is the CPU's idle thread). The expressions
 * are parameters so another kernel (or a renamed field) only needs a different table; with none
 * (a kernel without LaneOS's cpus[]) each CPU shows only what every kernel has: QEMU's text and
 * the frame it is in.
 */
import type { GdbMi } from './mi-driver.js';
import { miStr, miTuple, type MiValue } from '../common/mi.js';

export interface CpuExpressions {
  /** Each gets the CPU index substituted for `$cpu`. */
  current: string;
  tid: string;
  pid: string;
  process: string;
  idle: string;
}

export const LANEOS_CPU_EXPRESSIONS: CpuExpressions = {
  current: '(unsigned long)cpus[$cpu]->current',
  tid: 'cpus[$cpu]->current->tid',
  pid: 'cpus[$cpu]->current->proc ? cpus[$cpu]->current->proc->pid : 0',
  process: 'cpus[$cpu]->current->proc ? cpus[$cpu]->current->proc->name : "kernel"',
  idle: 'cpus[$cpu]->current == cpus[$cpu]->idle',
};

export interface CpuView {
  /** gdb thread id of this vCPU. */
  threadId: string;
  cpu: number;
  /** QEMU's text, e.g. "CPU#1 [halted ]". */
  qemu: string;
  tid?: number;
  pid?: number;
  process?: string;
  idle?: boolean;
  /** Why the kernel fields are missing (e.g. before the scheduler runs). */
  error?: string;
  /** Where the CPU is, from gdb's thread list: "func at file:line", or its pc. */
  frame?: string;
}

/**
 * The vCPU index of one of gdb's threads (an MI thread tuple, from -thread-info): QEMU's "CPU#n",
 * else the core the stub gave (LaneOS's stub: threads are kernel threads, core = the CPU running
 * it), else the thread number less one (QEMU numbers its vCPUs so).
 */
export function cpuOfThread(t: MiValue | undefined, threadId: string): number {
  const th = miTuple(t);
  const text = th ? (miStr(th.details) ?? miStr(th['target-id']) ?? '') : '';
  const m = /CPU#(\d+)/.exec(text);
  if (m) return Number(m[1]);
  const core = th ? miStr(th.core) : undefined;
  if (core !== undefined && /^\d+$/.test(core)) return Number(core);
  return Number(threadId) - 1;
}

/** "func at file:line" (or "func at 0xADDR", or the pc) from a thread's MI frame. */
function frameText(f: MiValue | undefined): string | undefined {
  const t = miTuple(f);
  if (!t) return undefined;
  const func = miStr(t.func);
  const file = miStr(t.file);
  const line = miStr(t.line);
  const addr = miStr(t.addr);
  if (func && func !== '??') return `${func} at ${file ? `${file.split('/').pop()}:${line ?? '?'}` : addr ?? '?'}`;
  return addr;
}

/**
 * One view per vCPU. All of a stop's expressions are sent to gdb at once (pipelined: gdb answers them
 * in order, with no Node ↔ gdb round trip between two), so the cost is gdb's own memory reads.
 */
export async function describeCpus(gdb: GdbMi, exprs: CpuExpressions | null = LANEOS_CPU_EXPRESSIONS): Promise<CpuView[]> {
  const info = await gdb.threadInfo();
  return Promise.all(info.threads.map(async (t): Promise<CpuView> => {
    const threadId = miStr(t.id) ?? '';
    const qemu = miStr(t.details) ?? miStr(t['target-id']) ?? '';
    const cpu = cpuOfThread(t, threadId);
    const view: CpuView = { threadId, cpu, qemu };
    const where = frameText(t.frame);
    if (where) view.frame = where;
    if (!exprs) return view;               // not LaneOS: what any kernel has (CPU, frame)
    const ev = (e: string) => gdb.evaluate(e.replace(/\$cpu/g, String(cpu)));
    const current = ev(exprs.current);
    // the rest fail when there is no current thread (a null pointer): then only `current` counts
    const rest = [ev(exprs.tid), ev(exprs.pid), ev(exprs.process), ev(exprs.idle)];
    for (const r of rest) r.catch(() => undefined);
    try {
      if (BigInt(await current) === 0n) {
        view.error = 'no current thread on this CPU yet';
      } else {
        const [tid, pid, name, idle] = await Promise.all(rest);
        view.tid = Number(tid);
        view.pid = Number(pid);
        view.process = /"(.*)"/.exec(name!)?.[1] ?? name;
        view.idle = idle === '1';
      }
    } catch (e) {
      view.error = (e as Error).message;
    }
    return view;
  }));
}
