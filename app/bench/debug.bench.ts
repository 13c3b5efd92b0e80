/*
 * Debugging benchmark (not a test: it asserts nothing, it prints figures).
 *   1. Step Over → editor highlight moved: on a copy of os/ in the browser mode with headless Chromium,
 *      a breakpoint in syscall_dispatch, Run, then N Step Overs (F10). Two figures per step: the
 *      renderer's own (keydown → decoration applied, window.lanescopeDebugger.lastStepToHighlightMs)
 *      and the page-observed one (key press sent → new highlight line seen by polling every 5 ms).
 *      Baseline in the same run: the same `-exec-next` issued straight to a gdb on QEMU's gdbstub
 *      (no bridge, no UI) — the ratio shows what Lanescope adds per step.
 *   2. Memory read throughput through the bridge vs directly from QEMU's stub: runs
 *      debugger/bench/bridge-throughput.ts --json (ratio; goal ≥ 0.9).
 * Prints a table and one JSON line (prefix BENCH_JSON).
 *   node --import tsx app/bench/debug.bench.ts [--steps N]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startQemu } from '../../debugger/node/qemu.js';
import { GdbMi } from '../../debugger/node/mi-driver.js';
import { buildApp, copyProject, openSession, repo, waitForText } from '../test/e2e/harness.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(n);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const STEPS = arg('--steps', 12);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const FILE = 'kernel/generic/syscall.c';

async function uiSteps(project: string, bpLine: number): Promise<{ renderer: number[]; observed: number[]; lines: number[] }> {
  const s = await openSession(project);
  const p = s.page;
  const renderer: number[] = [];
  const observed: number[] = [];
  const lines: number[] = [];
  try {
    await p.evaluate(`window.lanescopeDebugger && 0`);
    await p.click('#tree [data-path="kernel"]');
    await p.click('#tree [data-path="kernel/generic"]');
    await p.click(`#tree [data-path="${FILE}"]`);
    await p.waitForSelector('.monaco-editor .view-lines .mtk1');
    const pt = (await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`)) as { x: number; y: number };
    await p.waitForTimeout(200);
    const pt2 = (await p.evaluate(`window.lanescopeDebugger.glyphPoint(${bpLine})`)) as { x: number; y: number };
    await p.mouse.click(pt2.x ?? pt.x, pt2.y ?? pt.y);
    await p.click('.monaco-editor .view-lines');
    await p.keyboard.press('F5');
    await waitForText(p, async (pg) => (await pg.textContent('#dbg-state')) ?? '', /Stopped/, 900000, 'the stop');
    // Remove the breakpoint so steps never land on a second hit.
    await p.click(`#panel-debug .dbg-bp[data-line="${bpLine}"] .dbg-del`);
    await p.waitForTimeout(300);
    const cur = async () => ((await p.evaluate('window.lanescopeDebugger.decorations()')) as { current: number | null }).current;
    for (let i = 0; i < STEPS; i++) {
      const before = await cur();
      const seqBefore = ((await p.evaluate('window.lanescopeDebugger.status()')) as { seq: number }).seq;
      const t0 = performance.now();
      await p.keyboard.press('F10');
      // Wait for a new stop snapshot and the decoration on its line.
      for (;;) {
        const st = (await p.evaluate('window.lanescopeDebugger.status()')) as { seq: number; phase: string; stop?: { location: { line: number } | null } };
        const c = await cur();
        if (st.phase === 'stopped' && st.seq !== seqBefore && (c !== before || st.stop?.location?.line === before) && c === (st.stop?.location?.line ?? null)) break;
        if (performance.now() - t0 > 60000) throw new Error('step did not complete within 60 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      observed.push(performance.now() - t0);
      renderer.push((await p.evaluate('window.lanescopeDebugger.lastStepToHighlightMs()')) as number);
      lines.push((await cur()) ?? -1);
      // Keep stepping inside the kernel's own source: stop before stepping out of the file.
      const st = (await p.evaluate('window.lanescopeDebugger.status()')) as { stop?: { location: { file: string } | null } };
      if (st.stop?.location?.file !== FILE) break;
    }
  } finally {
    await s.close();
  }
  return { renderer, observed, lines };
}

async function directSteps(project: string, bpLine: number): Promise<number[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanescope-bench-'));
  const q = await startQemu({ kernel: path.join(project, 'build/kernel/lanes32.elf'), initrd: path.join(project, 'build/initrd.tar'), memory: '256M', smp: 2, accel: 'tcg' });
  const g = await GdbMi.start();
  const out: number[] = [];
  try {
    await g.loadFile(path.join(project, 'build/kernel/lanes.elf'));
    await g.connect(`127.0.0.1:${q.port}`);
    const b = await g.breakInsert(`${path.join(project, FILE)}:${bpLine}`, { hardware: true });
    await g.run('continue', 600000);
    await g.breakDelete(b.number as string);
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      const s = await g.run('next', 60000);
      out.push(performance.now() - t0);
      if (!/syscall\.c$/.test(((s.frame as { file?: string }) ?? {}).file ?? '')) break;
    }
  } finally {
    g.kill();
    await q.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
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
  const r = {
    benchmark: 'debugging',
    steps: ui.observed.length,
    stepToHighlightMs: { rendererMedian: +median(ui.renderer).toFixed(1), observedMedian: +median(ui.observed).toFixed(1), observedMax: +Math.max(...ui.observed).toFixed(1) },
    baselineGdbNextDirectMs: +median(direct).toFixed(1),
    ratioUiOverDirect: +(median(ui.observed) / median(direct)).toFixed(2),
    lines: ui.lines,
    memoryThroughput: throughput,
  };
  console.log(`Step Over → highlight moved (${r.steps} steps, QEMU under TCG, 2 vCPUs):`);
  console.log(`  renderer (F10 keydown → decoration)   median ${r.stepToHighlightMs.rendererMedian} ms`);
  console.log(`  observed from the page                median ${r.stepToHighlightMs.observedMedian} ms, max ${r.stepToHighlightMs.observedMax} ms`);
  console.log(`  baseline: gdb -exec-next on QEMU's stub directly (no bridge, no UI)  median ${r.baselineGdbNextDirectMs} ms`);
  console.log(`  ratio Lanescope / direct gdb           ${r.ratioUiOverDirect}`);
  console.log(`Memory read through the bridge vs directly (debugger/bench/bridge-throughput.ts):`);
  console.log(`  ${JSON.stringify(throughput)}`);
  console.log(`BENCH_JSON ${JSON.stringify(r)}`);
}

main().catch((e: Error) => {
  console.error(`debug bench: ${e.stack ?? e.message}`);
  process.exit(1);
});
