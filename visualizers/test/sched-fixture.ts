/*
 * A synthetic scheduling trace shaped like the kernel's (os/abi/trace.toml), for the scheduler
 * view's model and browser tests: 4 spinners of process `spin` started on CPU 0 of 2; one is
 * stolen by the idle CPU 1, one moved by the balancer in round 1 (ideal 2048).
 */
import type { TraceRecordLike } from '../sched/model.js';

export const MS = 1_000_000;
function ev(name: string, ns: number, cpu: number, fields: Record<string, unknown>): TraceRecordLike {
  return { name, ns, cpu, fields };
}
const sw = (ns: number, cpu: number, prev: number, next: number, pid = 7) =>
  ev('ctx_switch', ns, cpu, { prev_tid: prev, prev_pid: pid, next_tid: next, next_pid: next ? pid : 0, reason: 0 });

export function scenario(): TraceRecordLike[] {
  return [
    ev('trace_header', 0, 0, { ncpus: 2 }),
    ev('proc_create', 0, 0, { pid: 7, parent: 1, name: 'spin' }),
    ...[11, 12, 13, 14].map((tid) => ev('thread_create', 1 * MS, 0, { tid, pid: 7, home_cpu: 0, kernel: 0, name: 'spin' })),
    ...[11, 12, 13, 14].map((tid) => ev('migrate', 1 * MS, 0, { tid, from_cpu: 0, to_cpu: 0, reason: 2, load_from: 0, load_to: 0, thread_load: 0, ideal: 0, round: 0 })),
    sw(2 * MS, 0, 0, 11),
    ev('migrate', 3 * MS, 1, { tid: 12, from_cpu: 0, to_cpu: 1, reason: 3, load_from: 3, load_to: 0, thread_load: 0, ideal: 0, round: 0 }),
    sw(3 * MS, 1, 0, 12),
    sw(12 * MS, 0, 11, 13),
    sw(22 * MS, 0, 13, 14),
    ev('load_sample', 100 * MS, 0, { of_cpu: 0, rq_len: 2, load: 3072, busy_ns: 0, idle_ns: 0 }),
    ev('load_sample', 100 * MS, 1, { of_cpu: 1, rq_len: 0, load: 1024, busy_ns: 0, idle_ns: 0 }),
    ev('balance_round', 100 * MS, 0, { round: 1, ncpus: 2, ideal: 2048, moves: 1, total: 4096, enabled: 1, interval_ms: 100 }),
    ev('balance_cpu', 100 * MS, 0, { round: 1, of_cpu: 0, load_before: 3072, load_after: 2048, nthreads: 3, nloaded: 3 }),
    ev('balance_cpu', 100 * MS, 0, { round: 1, of_cpu: 1, load_before: 1024, load_after: 2048, nthreads: 1, nloaded: 1 }),
    ev('migrate', 101 * MS, 0, { tid: 13, from_cpu: 0, to_cpu: 1, reason: 0, load_from: 3072, load_to: 1024, thread_load: 1024, ideal: 2048, round: 1 }),
    sw(101 * MS, 0, 14, 11),
    sw(110 * MS, 1, 12, 13),
    ev('load_sample', 200 * MS, 0, { of_cpu: 0, rq_len: 1, load: 2048, busy_ns: 0, idle_ns: 0 }),
    ev('load_sample', 200 * MS, 1, { of_cpu: 1, rq_len: 1, load: 2048, busy_ns: 0, idle_ns: 0 }),
    ev('balance_round', 200 * MS, 0, { round: 2, ncpus: 2, ideal: 2048, moves: 0, total: 4096, enabled: 1, interval_ms: 100 }),
    ev('balance_cpu', 200 * MS, 0, { round: 2, of_cpu: 0, load_before: 2048, load_after: 2048, nthreads: 2, nloaded: 2 }),
    ev('balance_cpu', 200 * MS, 0, { round: 2, of_cpu: 1, load_before: 2048, load_after: 2048, nthreads: 2, nloaded: 2 }),
    sw(200 * MS, 0, 11, 0),
    ev('ipc_submit', 200 * MS, 0, {}),
  ];
}


/**
 * A long scheduling trace for load tests and the benchmark, `n` events shaped like a Run of
 * `spin 8` beside a shell and servers on 4 CPUs: 16 threads of 3 processes, a context switch on
 * some CPU every 250 µs (slices of 1 ms per CPU), and every 100 ms a balance round (a load sample
 * per CPU, balance_round, balance_cpu per CPU) with a balance move, plus a steal every 7th round
 * and an affinity move every 11th. Calls emit for each event (one object reused: copy to keep).
 */
export function bigScenario(n: number, emit: (e: TraceRecordLike) => void): number {
  const NCPU = 4;
  let count = 0;
  const out = (name: string, ns: number, cpu: number, fields: Record<string, unknown>) => {
    emit({ name, ns, cpu, fields });
    count++;
  };
  out('trace_header', 0, 0, { ncpus: NCPU });
  const procs = [[7, 'spin'], [3, 'sh'], [2, 'posix']] as const;
  for (const [pid, name] of procs) out('proc_create', 0, 0, { pid, parent: 1, name });
  const pidOf = (tid: number) => (tid < 108 ? 7 : tid < 112 ? 3 : 2);
  const queues: number[][] = [[], [], [], []];
  for (let tid = 100; tid < 116; tid++) {
    out('thread_create', 0, 0, { tid, pid: pidOf(tid), home_cpu: 0, kernel: 0, name: procs.find((p) => p[0] === pidOf(tid))![1] });
    const cpu = tid % NCPU;
    out('migrate', 0, 0, { tid, from_cpu: 0, to_cpu: cpu, reason: 2, load_from: 0, load_to: 0, thread_load: 0, ideal: 0, round: 0 });
    queues[cpu]!.push(tid);
  }
  const cur = [0, 0, 0, 0];
  let ns = 1_000_000;
  let step = 0;
  let round = 0;
  let nextRound = 100_000_000;
  while (count < n) {
    ns += 250_000;
    const cpu = step++ % NCPU;
    const q = queues[cpu]!;
    const prev = cur[cpu]!;
    const next = q.length ? q[(step >> 2) % q.length]! : 0;
    out('ctx_switch', ns, cpu, { prev_tid: prev, prev_pid: prev ? pidOf(prev) : 0, next_tid: next, next_pid: next ? pidOf(next) : 0, reason: 0 });
    cur[cpu] = next;
    if (ns >= nextRound) {
      round++;
      nextRound += 100_000_000;
      const loads = queues.map((qq) => qq.length * 1024);
      const total = loads.reduce((a, b) => a + b, 0);
      const ideal = Math.round(total / NCPU);
      for (let c = 0; c < NCPU; c++) out('load_sample', ns, c, { of_cpu: c, rq_len: queues[c]!.length, load: loads[c]!, busy_ns: 0, idle_ns: 0 });
      out('balance_round', ns, 0, { round, ncpus: NCPU, ideal, moves: 1, total, enabled: 1, interval_ms: 100 });
      // move one thread from the busiest CPU to the least busy (the next round moves it back)
      const from = loads.indexOf(Math.max(...loads));
      const to = loads.indexOf(Math.min(...loads)) === from ? (from + 1) % NCPU : loads.indexOf(Math.min(...loads));
      const after = [...loads];
      after[from]! -= 1024;
      after[to]! += 1024;
      for (let c = 0; c < NCPU; c++) out('balance_cpu', ns, 0, { round, of_cpu: c, load_before: loads[c]!, load_after: after[c]!, nthreads: queues[c]!.length, nloaded: queues[c]!.length });
      const tid = queues[from]!.pop();
      if (tid !== undefined) {
        queues[to]!.push(tid);
        const reason = round % 11 === 0 ? 1 : round % 7 === 0 ? 3 : 0;
        out('migrate', ns + 1000, to, { tid, from_cpu: from, to_cpu: to, reason, load_from: loads[from]!, load_to: loads[to]!, thread_load: 1024, ideal, round });
      }
    }
  }
  return count;
}
