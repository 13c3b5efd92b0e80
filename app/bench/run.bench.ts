/*
 * `npm run bench` (workbench part). Measures, on a copy of os/ in the browser mode with headless Chromium:
 *   1. Run → first console line, with a warm build (make has nothing to do), median of N runs;
 *   2. baselines in the same run: the warm `make` alone, and QEMU alone from its first byte
 *      (same command line, started directly) — so Lanescope's own overhead is visible as a ratio;
 *   3. the renderer's memory after boot (JS heap via performance.memory and CDP, DOM nodes).
 * Prints a table and one JSON line (prefix BENCH_JSON). Not a test: it asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { kvmUnusableReason } from '../../debugger/node/kvm.js';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp, consoleText, copyProject, openSession, qemuProcesses, repo, shot, waitForText } from '../test/e2e/harness.js';
import { validateProjectConfig } from '../common/project.js';
import { qemuArgs } from '../node/qemu.js';

const RUNS = Number(process.env['LANESCOPE_BENCH_RUNS'] ?? 5);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function qemuFirstByte(project: string): Promise<number> {
  const { config } = validateProjectConfig(JSON.parse(fs.readFileSync(path.join(project, 'lanescope.json'), 'utf8')));
  const argv = qemuArgs(project, config);
  const t0 = performance.now();
  const q = spawn(config.qemu.binary, argv, { cwd: project, stdio: ['pipe', 'pipe', 'ignore'] });
  const ms = await new Promise<number>((resolve, reject) => {
    q.stdout.once('data', () => resolve(performance.now() - t0));
    q.once('exit', (c) => reject(new Error(`qemu exited ${c}`)));
  });
  q.kill('SIGKILL');
  await new Promise((r) => q.once('exit', r));
  return ms;
}

async function main(): Promise<void> {
  buildApp();
  const project = copyProject(process.env['LANESCOPE_E2E_PROJECT'] ?? path.join(repo, 'os'));
  const cfg = JSON.parse(fs.readFileSync(path.join(project, 'lanescope.json'), 'utf8')) as { build: { command: string } };
  const s = await openSession(project);
  const p = s.page;
  try {
    // Cold run once (builds everything), so the measured runs have a warm build.
    await p.keyboard.press('F5');
    await waitForText(p, consoleText, /lanes\$ /, 900000, 'the first boot');
    await p.keyboard.press('Shift+F5');
    await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^stopped$/, 30000, 'stopped');

    const runToFirstLine: number[] = [];
    const runToBanner: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Measured inside the page: from the Run click to the console panel showing guest output.
      const r = (await p.evaluate(`new Promise((resolve) => {
        const d = window.lanescopeDebug;
        const t0 = performance.now();
        let first = 0;
        document.querySelector('#btn-run').click();
        let reset = false;
        const poll = () => {
          const t = d.consoleText();
          // The console panel is cleared when the new run starts building; until then it shows the last run.
          if (!reset) {
            if (/\[target stopped\]/.test(t)) return requestAnimationFrame(poll);
            reset = true;
          }
          if (!first && /\\S/.test(t) && !/appears here after Run/.test(t)) first = performance.now() - t0;
          if (/LaneOS 0\\.1\\.0/.test(t)) return resolve({ first, banner: performance.now() - t0 });
          requestAnimationFrame(poll);
        };
        poll();
      })`)) as { first: number; banner: number };
      runToFirstLine.push(r.first);
      runToBanner.push(r.banner);
      await waitForText(p, consoleText, /lanes\$ /, 120000, 'the prompt');
      if (i === RUNS - 1) {
        const mem = (await p.evaluate('({ used: performance.memory.usedJSHeapSize, total: performance.memory.totalJSHeapSize, nodes: document.getElementsByTagName("*").length })')) as { used: number; total: number; nodes: number };
        const cdp = await p.context().newCDPSession(p);
        await cdp.send('Performance.enable');
        const { metrics } = await cdp.send('Performance.getMetrics');
        const m = Object.fromEntries(metrics.map((x: { name: string; value: number }) => [x.name, x.value]));
        await shot(p, 'bench-booted');
        (globalThis as unknown as { mem: unknown }).mem = { ...mem, cdpJSHeapUsed: m['JSHeapUsedSize'], cdpNodes: m['Nodes'], cdpListeners: m['JSEventListeners'] };
      }
      await p.keyboard.press('Shift+F5');
      await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^stopped$/, 30000, 'stopped');
    }
    // Baselines, same machine, same moment.
    const makeMs: number[] = [];
    const qemuMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      spawnSync('/bin/sh', ['-c', cfg.build.command], { cwd: project, stdio: 'ignore' });
      makeMs.push(performance.now() - t0);
      qemuMs.push(await qemuFirstByte(project));
    }
    const mem = (globalThis as unknown as { mem: { used: number; total: number; nodes: number; cdpJSHeapUsed: number; cdpNodes: number; cdpListeners: number } }).mem;
    const ide = median(runToFirstLine);
    const base = median(makeMs) + median(qemuMs);
    const result = {
      runs: RUNS,
      run_to_first_console_line_ms: Math.round(ide),
      run_to_banner_ms: Math.round(median(runToBanner)),
      baseline_warm_make_ms: Math.round(median(makeMs)),
      baseline_qemu_first_byte_ms: Math.round(median(qemuMs)),
      ratio_ide_vs_make_plus_qemu: Number((ide / base).toFixed(2)),
      renderer_js_heap_used_mb: Number((mem.used / 1048576).toFixed(1)),
      renderer_js_heap_total_mb: Number((mem.total / 1048576).toFixed(1)),
      renderer_cdp_js_heap_used_mb: Number((mem.cdpJSHeapUsed / 1048576).toFixed(1)),
      renderer_dom_nodes: mem.cdpNodes,
      kvm: kvmUnusableReason() === null,
    };
    console.log('\nLanescope workbench benchmark (browser mode, headless Chromium, copy of os/)');
    console.log(`  Run → first console line (warm build), median of ${RUNS}: ${result.run_to_first_console_line_ms} ms   [all: ${runToFirstLine.map((x) => Math.round(x)).join(', ')}]`);
    console.log(`  Run → "LaneOS 0.1.0" banner, median:                 ${result.run_to_banner_ms} ms`);
    console.log(`  baseline: warm "${cfg.build.command}" alone:                 ${result.baseline_warm_make_ms} ms`);
    console.log(`  baseline: QEMU alone → first byte:                   ${result.baseline_qemu_first_byte_ms} ms`);
    console.log(`  ratio Lanescope / (make + QEMU):                     ${result.ratio_ide_vs_make_plus_qemu}`);
    console.log(`  renderer memory after boot: JS heap ${result.renderer_js_heap_used_mb} MB used / ${result.renderer_js_heap_total_mb} MB total (CDP: ${result.renderer_cdp_js_heap_used_mb} MB), ${result.renderer_dom_nodes} DOM nodes`);
    console.log(`BENCH_JSON ${JSON.stringify({ bench: 'workbench', ...result })}`);
  } finally {
    await s.close();
    if (qemuProcesses(project).length) console.error('warning: QEMU left running after the benchmark');
  }
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.message}`);
  process.exit(1);
});
