/*
 * guest.ts — the one way the TypeScript tests boot LaneOS in QEMU with its shell on a pipe (tests
 * that drive the gdbstub use debugger/node/qemu.ts's startQemu instead). TCG always, so every
 * machine runs them; the CPU model is the one os/tools/lanesboot.py uses.
 *
 *   const g = bootGuest({ kernel, initrd, smp: 2, extra: qemuTraceArgs({ shm }) });
 *   try {
 *     await g.prompt();                      // the first shell prompt
 *     await g.run('ps');                     // types a line, waits for the next prompt
 *     await g.waitFor(/test ipc-cancel: \w+/, from, 60000, 'ipc-cancel');
 *   } finally {
 *     await g.kill();
 *   }
 *
 * Every wait fails with the end of the console output (and says so when QEMU exited first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export const PROMPT = /lanes\$ /;

/** QEMU's arguments before the kernel: TCG, lanesboot's CPU model, no display, no reboot. */
export function qemuBase(smp = 2, memory = '256M'): string[] {
  return ['-accel', 'tcg', '-cpu', 'max,-arch-capabilities', '-smp', String(smp), '-m', memory, '-display', 'none', '-monitor', 'none', '-no-reboot'];
}

export interface TestGuest {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Everything QEMU printed so far (the serial console and its own messages). */
  output(): string;
  /** Waits until re matches the output from index `from` on. */
  waitFor(re: RegExp, from: number, ms: number, what?: string): Promise<void>;
  /** The first shell prompt. */
  prompt(ms?: number): Promise<void>;
  /** Types one line and waits for what shows it is done (default: the next prompt). */
  run(line: string, ms?: number, until?: RegExp): Promise<void>;
  /** Ends QEMU and waits for it. */
  kill(): Promise<void>;
}

/**
 * Runs `trace sync NAME` in the guest (an instant marker NAME from each CPU in turn) and waits
 * until `events()` — what the host has decoded so far — holds it from every CPU: then every
 * record made before the command is on the host too, whichever CPU's ring it was in (the drainer
 * sends each ring in order, at most 16 KiB of it per pass). This replaces a fixed idle wait, which
 * a loaded host made too short. Fails naming what arrived.
 */
export async function traceSync(g: TestGuest, events: () => Array<{ name: string; cpu: number; fields: Record<string, unknown> }>, ms = 120000): Promise<void> {
  const name = `lanes-sync-${Date.now().toString(36)}`;
  const from = g.output().length;
  await g.run(`trace sync ${name}`, ms, new RegExp(`trace: sync '${name}' on \\d+ of (\\d+) CPUs`));
  const m = new RegExp(`trace: sync '${name}' on (\\d+) of (\\d+) CPUs`).exec(g.output().slice(from))!;
  if (m[1] !== m[2]) throw new Error(`trace sync: the marker was recorded on ${m[1]} of ${m[2]} CPUs (class user off?)`);
  const want = Number(m[2]);
  const end = Date.now() + ms;
  for (;;) {
    const cpus = new Set(events().filter((e) => e.name === 'marker' && e.fields['name'] === name).map((e) => e.cpu));
    if (cpus.size >= want) return;
    if (Date.now() > end) throw new Error(`trace sync: marker ${name} arrived from ${cpus.size} of ${want} CPUs within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function bootGuest(o: { kernel: string; initrd: string; smp?: number; memory?: string; extra?: string[]; append?: string }): TestGuest {
  const args = [...qemuBase(o.smp ?? 2, o.memory), '-kernel', o.kernel, '-initrd', o.initrd, '-serial', 'stdio', ...(o.append ? ['-append', o.append] : []), ...(o.extra ?? [])];
  const proc = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  proc.stdin.on('error', () => undefined); // QEMU gone: the next wait says so
  const waitFor = async (re: RegExp, from: number, ms: number, what = String(re)) => {
    const end = Date.now() + ms;
    while (!re.test(out.slice(from))) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`QEMU exited while waiting for ${what}:\n${out.slice(-3000)}`);
      if (Date.now() > end) throw new Error(`timeout (${ms / 1000} s) waiting for ${what}:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    proc,
    output: () => out,
    waitFor,
    prompt: (ms = 180000) => waitFor(PROMPT, 0, ms, 'the shell prompt'),
    run: async (line, ms = 600000, until = PROMPT) => {
      const from = out.length;
      proc.stdin.write(line + '\n');
      await waitFor(until, from + line.length, ms, line);
    },
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
