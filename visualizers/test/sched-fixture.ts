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

