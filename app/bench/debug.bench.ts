/*
 * Debugging benchmark (not a test: it asserts nothing, it prints figures).
 *   1. Step Over → editor highlight moved: on a copy of os/ in the browser mode with headless Chromium,
 *      a breakpoint in syscall_dispatch, Run, then N Step Overs (F10). Figures per step: the
 *      renderer's own (keydown → decoration applied; → call stack and locals rendered; → the whole
 *      stop with the CPUs rendered: window.lanescopeDebugger.lastStepTimes()), the page-observed one
 *      (key press sent → new highlight line seen by polling every 5 ms), and the backend's profile of
 *      the stop (stop.profile: MI commands and ms from *stopped to each published stage), and where
 *      each step went hop by hop (stop.profile.path / .epoch: WebSocket, queue, gdb, bridge, QEMU,
 *      renderer) beside how long a woken process waits for a CPU on this machine meanwhile.
 *      Then Continue (F5) → the breakpoint hit again → highlight, the same figures.
 *      Baseline in the same run: the same `-exec-next` / `-exec-continue` issued straight to a gdb on
 *      QEMU's gdbstub (no bridge, no UI) — the difference is what Lanescope adds per step.
 *      Goal (issue 19): median ≤ baseline + 50 ms, worst ≤ 150 ms over the baseline's median.
 *   2. Memory read throughput through the bridge vs directly from QEMU's stub: runs
 *      debugger/bench/bridge-throughput.ts --json (ratio; goal ≥ 0.95, issue 19).
 * Prints a table and one JSON line (prefix BENCH_JSON).
 *   node --import tsx app/bench/debug.bench.ts [--steps N] [--continues N]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startQemu } from '../../debugger/node/qemu.js';
import { GdbMi } from '../../debugger/node/mi-driver.js';
import type { StopInfo, StopProfile } from '../common/debug.js';
import { buildApp, copyProject, openSession, repo, waitForText } from '../test/e2e/harness.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(n);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const STEPS = arg('--steps', 12);
const CONTINUES = arg('--continues', 5);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const FILE = 'kernel/generic/syscall.c';

interface UiStop {
  /** keydown → the stop's first snapshot arrived in the renderer. */
  arrived: number;
  /** keydown → decoration applied (renderer's clock). */
  highlight: number;
  /** … → call stack and locals rendered. */
  frames: number;
  /** … → the whole stop (CPUs too) rendered. */
  complete: number;
  /** key press sent → new highlight seen by the page's polling. */
  observed: number;
  /** The renderer's clock (performance.timeOrigin + now) when the key's command was issued. */
  commandEpoch: number;
  /** ms the renderer spent drawing the 'running' state in between. */
  runningRender: number;
  line: number;
  profile?: StopProfile;
}

type Page = Awaited<ReturnType<typeof openSession>>['page'];

/**
 * How long a process woken on this machine waits for a CPU while the UI steps: the lateness of a
 * 5 ms timer in this (mostly idle) process. Every hop of a step (renderer → server → gdb → bridge
 * → QEMU and back) pays it once per wake-up, so it says how much of a figure is the machine's load.
 */
const wakeLateness: number[] = [];
let wakeTimer: NodeJS.Timeout | undefined;
function probeWakeups(on: boolean): void {
  if (wakeTimer) clearTimeout(wakeTimer);
  wakeTimer = undefined;
  if (!on) return;
  let due = performance.now() + 5;
  const tick = () => {
    const now = performance.now();
    wakeLateness.push(now - due);
    due = now + 5;
    wakeTimer = setTimeout(tick, 5);
  };
  wakeTimer = setTimeout(tick, 5);
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))] ?? NaN;

/** Press `key` and wait for the next stop: highlighted and complete (CPUs included). */
async function timedStop(p: Page, key: string, timeoutMs: number): Promise<UiStop | null> {
  const seqBefore = ((await p.evaluate('window.lanescopeDebugger.status()')) as { seq: number; stop?: { stopId: number } }).stop?.stopId ?? -1;
  const t0 = performance.now();
  await p.keyboard.press(key);
  let observed = 0;
  // One small evaluate per poll (the whole status, frames and locals included, serialized every
  // 5 ms took the renderer's time from what it measures)
  const poll = `(() => { const d = window.lanescopeDebugger, s = d.status(); return [s.phase, s.stop ? s.stop.stopId : -1, !!(s.stop && s.stop.partial), s.stop && s.stop.location ? s.stop.location.line : null, d.decorations().current]; })()`;
  for (;;) {
    const [phase, stopId, partial, line, c] = (await p.evaluate(poll)) as [string, number, boolean, number | null, number | null];
    const fresh = phase === 'stopped' && stopId !== seqBefore;
    if (fresh && !observed && c === line) observed = performance.now() - t0;
    if (fresh && observed && !partial) {
      const st = (await p.evaluate('window.lanescopeDebugger.status()')) as { phase: string; stop?: StopInfo };
      const times = (await p.evaluate('window.lanescopeDebugger.lastStepTimes()')) as { arrived: number; highlight: number; frames: number; complete: number; runningRender: number; commandEpoch: number };
      return { ...times, observed, line: c ?? -1, ...(st.stop!.profile ? { profile: st.stop!.profile } : {}) };
    }
    if (performance.now() - t0 > timeoutMs) return null;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function uiSteps(project: string, bpLine: number): Promise<{ steps: UiStop[]; continues: UiStop[] }> {
  const s = await openSession(project);
  const p = s.page;
  const steps: UiStop[] = [];
  const continues: UiStop[] = [];
  const setBreakpoint = async () => {
    await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`);
    await p.waitForTimeout(200);
    const pt = (await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`)) as { x: number; y: number };
    await p.mouse.click(pt.x, pt.y);
    await p.click('.monaco-editor .view-lines');
  };
  try {
    await p.evaluate(`window.lanescopeDebugger && 0`);
    await p.click('#tree [data-path="kernel"]');
    await p.click('#tree [data-path="kernel/generic"]');
    await p.click(`#tree [data-path="${FILE}"]`);
    await p.waitForSelector('.monaco-editor .view-lines .mtk1');
    await setBreakpoint();
    await p.keyboard.press('F5');
    await waitForText(p, async (pg) => (await pg.textContent('#dbg-state')) ?? '', /Stopped/, 900000, 'the stop');
    // Remove the breakpoint so steps never land on a second hit.
    await p.click(`#panel-debug .dbg-bp[data-line="${bpLine}"] .dbg-del`);
    await p.waitForTimeout(300);
    probeWakeups(true);
    for (let i = 0; i < STEPS; i++) {
      const r = await timedStop(p, 'F10', 60000);
      if (!r) throw new Error('step did not complete within 60 s');
      steps.push(r);
      // Keep stepping while there is source (kernel/…: inline functions in headers count).
      const st = (await p.evaluate('window.lanescopeDebugger.status()')) as { stop?: { location: { file: string } | null } };
      if (!st.stop?.location) break;
    }
    // Continue → the breakpoint hit again (the next system call) → highlight.
    const st = (await p.evaluate('window.lanescopeDebugger.status()')) as { stop?: { location: { file: string } | null } };
    if (st.stop?.location) {
      await p.click(`#tree [data-path="${FILE}"]`);
      await p.waitForTimeout(300);
      await setBreakpoint();
      await p.waitForTimeout(500);
      for (let i = 0; i < CONTINUES; i++) {
        const r = await timedStop(p, 'F5', 30000);
        if (!r) break; // the guest made no system call within 30 s
        continues.push(r);
      }
    }
  } finally {
    probeWakeups(false);
    await s.close();
  }
  return { steps, continues };
}

async function directSteps(project: string, bpLine: number): Promise<{ steps: number[]; continues: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-bench-'));
  const q = await startQemu({ kernel: path.join(project, 'build/kernel/lanes32.elf'), initrd: path.join(project, 'build/initrd.tar'), memory: '256M', smp: 2, accel: 'tcg' });
  const g = await GdbMi.start();
  const out: number[] = [];
  const cont: number[] = [];
  try {
    await g.loadFile(path.join(project, 'build/kernel/lanes.elf'));
    await g.connect(`127.0.0.1:${q.port}`);
    const loc = `${path.join(project, FILE)}:${bpLine}`;
    const b = await g.breakInsert(loc, { hardware: true });
    await g.run('continue', 600000);
    await g.breakDelete(b.number as string);
    let inFile = true;
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      const s = await g.run('next', 60000);
      out.push(performance.now() - t0);
      inFile = !!((s.frame as { file?: string }) ?? {}).file;
      if (!inFile) break;
    }
    if (inFile) {
      await g.breakInsert(loc, { hardware: true });
      for (let i = 0; i < CONTINUES; i++) {
        const t0 = performance.now();
        const ok = await g.run('continue', 30000).then(() => true, () => false);
        if (!ok) break;
        cont.push(performance.now() - t0);
      }
    }
  } finally {
    g.kill();
    await q.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { steps: out, continues: cont };
}

const r1 = (x: number) => +x.toFixed(1);

/** One figure set: renderer and observed medians/worst against the baseline's median. */
function figures(ui: UiStop[], base: number[]) {
  const b = median(base);
  const f = (xs: number[]) => ({ median: +median(xs).toFixed(1), max: +Math.max(...xs).toFixed(1), overBaselineMedian: +(median(xs) - b).toFixed(1), overBaselineWorst: +(Math.max(...xs) - b).toFixed(1) });
  return {
    n: ui.length,
    baselineMedianMs: +b.toFixed(1),
    arrived: f(ui.map((x) => x.arrived)),
    highlight: f(ui.map((x) => x.highlight)),
    framesAndLocals: f(ui.map((x) => x.frames)),
    complete: f(ui.map((x) => x.complete)),
    observed: f(ui.map((x) => x.observed)),
    breakdown: breakdown(ui),
    backend: {
      miPerStopMedian: r1(median(ui.map((x) => x.profile?.mi.cpus ?? NaN))),
      miToFramesMedian: r1(median(ui.map((x) => x.profile?.mi.frames ?? NaN))),
      msStoppedToLineMedian: r1(median(ui.map((x) => x.profile?.ms.location ?? NaN))),
      msStoppedToFramesMedian: r1(median(ui.map((x) => x.profile?.ms.frames ?? NaN))),
      msStoppedToCpusMedian: r1(median(ui.map((x) => x.profile?.ms.cpus ?? NaN))),
      msCommandToStoppedMedian: r1(median(ui.map((x) => x.profile?.execution ?? NaN))),
    },
  };
}

/**
 * Where one stop's time went, hop by hop (ms, medians over the stops): the renderer's and the
 * backend's clocks are lined up by wall-clock time (both on this machine).
 */
function breakdown(ui: UiStop[]) {
  const m = (f: (x: UiStop) => number | undefined) => r1(median(ui.map((x) => f(x) ?? NaN).filter((v) => Number.isFinite(v))));
  const pub = (x: UiStop) => x.profile?.epoch?.location ?? x.profile?.epoch?.frames;
  return {
    keyToBackend: m((x) => (x.profile?.epoch?.command !== undefined ? x.profile.epoch.command - x.commandEpoch : undefined)),
    queuedBeforeGdb: m((x) => x.profile?.path?.sent),
    gdbMs: m((x) => x.profile?.path?.gdbMs),
    bridgeMs: m((x) => x.profile?.path?.bridgeMs),
    qemuMs: m((x) => x.profile?.path?.targetMs),
    stoppedToPublished: m((x) => x.profile?.ms.location || x.profile?.ms.frames),
    publishedToRenderer: m((x) => { const p = pub(x); return p !== undefined ? x.commandEpoch + x.arrived - p : undefined; }),
    // the two hops' sum does not depend on how the two processes' clocks line up
    bothWebSocketHops: m((x) => { const p = pub(x); return p !== undefined && x.profile?.epoch?.command !== undefined ? x.profile.epoch.command - x.commandEpoch + x.commandEpoch + x.arrived - p : undefined; }),
    rendererToHighlight: m((x) => x.highlight - x.arrived),
    runningRender: m((x) => x.runningRender),
    gdbPackets: m((x) => { const g = x.profile?.path?.gdbPackets; return g ? Object.values(g).reduce((a, b) => a + b, 0) : undefined; }),
    gdbSingleSteps: m((x) => x.profile?.path?.gdbPackets.singleStep),
    gdbRangeSteps: m((x) => x.profile?.path?.gdbPackets.rangeStep),
    gdbThreadList: m((x) => x.profile?.path?.gdbPackets.threadList),
    gdbReads: m((x) => x.profile?.path?.gdbPackets.read),
    qemuPackets: m((x) => x.profile?.path?.targetPackets),
  };
}

/** MI commands of all stops by name: count per stop and summed latency (pipelined: overlapping). */
function byCommand(ui: UiStop[]): Record<string, { perStop: number; ms: number }> {
  const acc: Record<string, { perStop: number; ms: number }> = {};
  for (const x of ui) for (const [k, v] of Object.entries(x.profile?.byCommand ?? {})) {
    const a = (acc[k] ??= { perStop: 0, ms: 0 });
    a.perStop += v.n / ui.length;
    a.ms += v.ms / ui.length;
  }
  for (const a of Object.values(acc)) {
    a.perStop = +a.perStop.toFixed(1);
    a.ms = +a.ms.toFixed(1);
  }
  return acc;
}

async function main(): Promise<void> {
  buildApp();
  const project = copyProject(process.env['LANESCOPE_E2E_PROJECT'] ?? path.join(repo, 'os'));
  const bpLine = fs.readFileSync(path.join(project, FILE), 'utf8').split('\n').findIndex((l) => /uint64_t nr = r->rax;/.test(l)) + 1;
  const ui = await uiSteps(project, bpLine); // builds the project too (Run)
  const direct = await directSteps(project, bpLine);
  const tp = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'debugger/bench/bridge-throughput.ts'), '--json'], { encoding: 'utf8', cwd: repo });
  const throughput = (() => {
    try {
      return JSON.parse(tp.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
    } catch {
      return { error: (tp.stderr || tp.stdout).slice(-400) };
    }
  })();
  const step = figures(ui.steps, direct.steps);
  const cont = ui.continues.length && direct.continues.length ? figures(ui.continues, direct.continues) : null;
  const r = {
    benchmark: 'debugging',
    stepOver: step,
    continueToBreakpoint: cont,
    miByCommandPerStep: byCommand(ui.steps),
    lines: ui.steps.map((x) => x.line),
    machine: { loadAverage: os.loadavg().map((x) => +x.toFixed(2)), cpus: os.cpus().length, wakeupLatenessMs: { median: r1(median(wakeLateness)), p99: r1(pct(wakeLateness, 0.99)), max: r1(Math.max(...wakeLateness)) } },
    memoryThroughput: throughput,
  };
  const goal = (x: ReturnType<typeof figures>['highlight']) => `${x.overBaselineMedian <= 50 && x.overBaselineWorst <= 150 ? 'goal met' : 'goal NOT met'} (median +${x.overBaselineMedian} ms, worst +${x.overBaselineWorst} ms over the baseline; goal +50 / +150)`;
  const show = (title: string, f: ReturnType<typeof figures>) => {
    console.log(`${title} (${f.n} times, QEMU under TCG, 2 vCPUs):`);
    console.log(`  baseline: gdb straight on QEMU's stub (no bridge, no UI)   median ${f.baselineMedianMs} ms`);
    console.log(`  renderer: key → stop's first snapshot arrived median ${f.arrived.median} ms (backend: command → *stopped ${f.backend.msCommandToStoppedMedian} ms)`);
    console.log(`  renderer: key → line highlighted              median ${f.highlight.median} ms, worst ${f.highlight.max} ms  ${goal(f.highlight)}`);
    console.log(`  renderer: key → call stack + locals rendered  median ${f.framesAndLocals.median} ms, worst ${f.framesAndLocals.max} ms  ${goal(f.framesAndLocals)}`);
    console.log(`  renderer: key → whole stop (CPUs) rendered    median ${f.complete.median} ms, worst ${f.complete.max} ms`);
    console.log(`  observed from the page (5 ms polling)         median ${f.observed.median} ms, worst ${f.observed.max} ms`);
    const b = f.breakdown;
    console.log(`  where the time goes (medians, ms): key → backend's debug.command ${b.keyToBackend} · queued behind MI work ${b.queuedBeforeGdb} · ` +
      `gdb's own work ${b.gdbMs} · bridge ${b.bridgeMs} · QEMU ${b.qemuMs} (gdb → *stopped) · *stopped → published ${b.stoppedToPublished} · ` +
      `→ renderer ${b.publishedToRenderer} · → highlight ${b.rendererToHighlight} (the renderer drew the 'running' state meanwhile in ${b.runningRender}); both WebSocket hops together ${b.bothWebSocketHops}`);
    console.log(`  gdb's packets per stop ${b.gdbPackets} (single steps ${b.gdbSingleSteps}, range steps ${b.gdbRangeSteps}, thread list ${b.gdbThreadList}, reads ${b.gdbReads}); packets to QEMU ${b.qemuPackets}`);
    console.log(`  backend per stop: debug.command → *stopped ${f.backend.msCommandToStoppedMedian} ms (gdb's step through the bridge); ${f.backend.miPerStopMedian} MI commands (${f.backend.miToFramesMedian} before the call stack + locals); *stopped → line published ${f.backend.msStoppedToLineMedian} ms, → stack + locals ${f.backend.msStoppedToFramesMedian} ms, → CPUs ${f.backend.msStoppedToCpusMedian} ms`);
  };
  const mc = r.machine;
  console.log(`Machine while stepping: ${mc.cpus} CPUs, load average ${mc.loadAverage.join(' ')}; a woken process waited for a CPU median ${mc.wakeupLatenessMs.median} ms, p99 ${mc.wakeupLatenessMs.p99} ms, max ${mc.wakeupLatenessMs.max} ms (5 ms timer lateness), once per hop`);
  show('Step Over → highlight', step);
  if (cont) show('Continue → breakpoint hit → highlight', cont);
  else console.log('Continue → breakpoint hit: not measured (no hit within 30 s, or the steps left the file)');
  console.log('MI commands per step by name (count, summed latency in ms; pipelined commands overlap):');
  for (const [k, v] of Object.entries(r.miByCommandPerStep)) console.log(`  ${k.padEnd(28)} ${String(v.perStop).padStart(5)}  ${v.ms} ms`);
  console.log(`How to read "where the time goes": key → backend and → renderer are the WebSocket hops (their sum does not
  depend on the two clocks); "queued" is MI work ahead of the step in the session; gdb / bridge / QEMU split
  debug.command → *stopped by who held the step between two packets of the bridge's log (the bridge runs
  range steps itself; gdb still lists the threads — answered by the bridge — and reads the stack and a
  code line at each stop). QEMU answers in well under 1 ms when idle, so a large QEMU or gdb share is the
  wait for a CPU at each hop (the machine line above). The line comes from gdb's *stopped record (0 MI
  commands); call stack + locals and the CPUs panel follow as later snapshots. (app/README.md, "Where a
  Step Over's time goes".)`);
  console.log(`Memory read through the bridge vs directly (debugger/bench/bridge-throughput.ts):`);
  console.log(`  ${JSON.stringify(throughput)}`);
  console.log(`BENCH_JSON ${JSON.stringify(r)}`);
}

main().catch((e: Error) => {
  console.error(`debug bench: ${e.stack ?? e.message}`);
  process.exit(1);
});
