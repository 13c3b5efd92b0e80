/*
 * step-path.ts — where one Step Over (or Continue) spends its time before gdb says *stopped.
 *
 * DebugSession starts a recorder when a debug.command arrives and feeds it the bridge's packet log
 * (the 'packet' events it already listens to); at *stopped it yields a StepPath
 * (app/common/debug.ts): when the -exec-* went to gdb, gdb's packets by kind, the packets the bridge
 * sent to QEMU, and the time split by who held the step between two logged packets:
 *
 *   gdb    from -exec-* written, and from each bridge answer to gdb, to gdb's next packet
 *   bridge from a packet's arrival (from gdb or from QEMU) to the bridge's next packet out
 *   target from the bridge's packet to QEMU to QEMU's answer
 *
 * so bridgeMs + targetMs + gdbMs = *stopped − sent. The bridge's read-ahead (it asks QEMU for the
 * stack line while gdb is told of the stop) overlaps with gdb's turn and is counted as gdb's. Under
 * load each turn also holds the wait for a CPU of the process whose turn it is.
 */
import type { PacketLogEntry } from '../../../debugger/node/bridge.js';
import type { StepPath } from '../../common/debug.js';

type Holder = 'gdb' | 'bridge' | 'target';

export class StepPathRecorder {
  private readonly path: StepPath = {
    sent: 0,
    gdbPackets: { resume: 0, singleStep: 0, rangeStep: 0, threadList: 0, read: 0, other: 0 },
    targetPackets: 0,
    bridgeMs: 0,
    targetMs: 0,
    gdbMs: 0,
  };
  private holder: Holder | undefined;
  private since = 0;

  /** `t0`: performance.now() when the debug.command arrived; `client`: the bridge client id of Lanescope's gdb. */
  constructor(private readonly t0: number, private readonly client: number) {}

  /** The -exec-* command was written to gdb. */
  sent(now = performance.now()): void {
    this.path.sent = +(now - this.t0).toFixed(1);
    this.turn('gdb', now);
  }

  private turn(h: Holder, now: number): void {
    if (this.holder) {
      const k = `${this.holder}Ms` as const;
      this.path[k] += now - this.since;
    }
    this.holder = h;
    this.since = now;
  }

  /** One entry of the bridge's packet log, as it is emitted. */
  packet(e: PacketLogEntry, now = performance.now()): void {
    if (!this.holder) return; // not yet sent: queued behind other MI work
    const packets = [...e.bytes.matchAll(/\$([^#]*)#/g)].map((m) => m[1]!);
    if (!packets.length) return; // acknowledgements only
    const at = +(now - this.t0).toFixed(1);
    switch (e.dir) {
      case 'client->bridge': {
        if (e.client !== this.client) return; // a user's gdb on the bridge port
        for (const p of packets) {
          const g = this.path.gdbPackets;
          if (/^vCont;[^?]/.test(p) || /^[cCsS]/.test(p)) {
            g.resume++;
            this.path.firstResume ??= at;
            if (/^vCont;r/.test(p)) g.rangeStep++;
            else if (/^vCont;s/.test(p) || /^[sS]/.test(p)) g.singleStep++;
          } else if (/^q[fs]ThreadInfo/.test(p) || /^T[0-9a-fA-Fp]/.test(p) || /^qThreadExtraInfo/.test(p)) g.threadList++;
          else if (/^[gmpx]/.test(p)) g.read++;
          else g.other++;
        }
        this.path.lastGdbPacket = at;
        this.turn('bridge', now);
        return;
      }
      case 'bridge->target':
        this.path.targetPackets += packets.length;
        if (this.holder !== 'gdb') this.turn('target', now); // else: read-ahead while gdb works
        return;
      case 'target->bridge':
        if (packets.some((p) => /^[TSWX]/.test(p))) this.path.lastTargetStop = at;
        if (this.holder !== 'gdb') this.turn('bridge', now);
        return;
      case 'bridge->client':
        if (e.client !== this.client) return;
        this.turn('gdb', now);
        return;
    }
  }

  /** gdb reported *stopped: the path, times rounded. */
  finish(now = performance.now()): StepPath {
    this.turn('gdb', now);
    const p = this.path;
    p.bridgeMs = +p.bridgeMs.toFixed(1);
    p.targetMs = +p.targetMs.toFixed(1);
    p.gdbMs = +p.gdbMs.toFixed(1);
    return p;
  }
}
