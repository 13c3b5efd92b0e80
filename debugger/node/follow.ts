/*
 * follow.ts — keep Lanescope's own gdb in step with runs started by other gdbs.
 *
 * gdb in all-stop mode does not read its connection while it believes the target is
 * stopped, so a stop caused by another client (a user's gdb in a terminal) cannot be
 * pushed to it. Instead, when the bridge reports that another client resumed the
 * target, the followed gdb is told `-exec-continue`: it sends its resume, the bridge
 * lets it JOIN the running target (or, if the run already ended, hands it that stop),
 * and the gdb then reports *stopped like any stop it caused itself.
 *
 * A run can also slip past: the user's gdb may start its next run while this gdb is still taking
 * in the stop of the previous one (it ignores the 'running' then, being "running" itself). The
 * bridge lists the follower as having missed that run's stop; the follower then catches up as soon
 * as its gdb is stopped — one more `-exec-continue`, which the bridge answers with the missed stop
 * (a late join) instead of running the target.
 *
 *   const f = await connectFollower(bridge, gdb);   // gdb connects to the bridge
 *   ...                                             // user's gdb continues/steps: gdb follows
 *   f.stop();
 */
import type { Bridge } from './bridge.js';
import type { GdbMi } from './mi-driver.js';

export interface Follower {
  clientId: number;
  stop(): void;
}

export async function connectFollower(bridge: Bridge, gdb: GdbMi, timeoutMs = 30000): Promise<Follower> {
  const address = bridge.gdbAddress;
  if (address === undefined) throw new Error('the bridge is not listening');
  const idP = new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => { bridge.off('client-connected', on); reject(new Error('gdb did not connect to the bridge')); }, timeoutMs);
    const on = (e: { id: number }) => { clearTimeout(t); bridge.off('client-connected', on); resolve(e.id); };
    bridge.on('client-connected', on);
  });
  await gdb.connect(address);
  const clientId = await idP;
  bridge.setFollower(clientId);
  let running = false;
  const onGdbRunning = () => { running = true; };
  const following = (on: boolean) => { try { bridge.setFollowing(clientId, on); } catch { /* gone */ } };
  // following from the -exec-continue below until gdb reports a stop: every resume its gdb sends
  // meanwhile joins the other client's run (Bridge.setFollowing)
  // behind: a stop the bridge did not send this gdb (it was not waiting), not yet caught up with
  let behind = false;
  const follow = () => {
    running = true;
    following(true);
    gdb.execContinue().catch((err: Error) => {
      // refused because its gdb is running already (it went on by itself from a stop this side had
      // not seen yet): still following — that run's stop resets both flags. Else it stays put.
      if (!/is running/i.test(err.message)) {
        running = false;
        following(false);
      }
      bridge.emit('hook-error', { message: `follower gdb could not follow a run: ${err.message}` });
    });
  };
  const onGdbStopped = () => {
    running = false;
    following(false);
    if (behind) follow();
  };
  gdb.on('running', onGdbRunning);
  gdb.on('stopped', onGdbStopped);
  const onRunning = (e: { client: number }) => {
    if (e.client === clientId || e.client === 0 || running) return;
    follow();
  };
  const onStop = (e: { missed: number[] }) => {
    if (!e.missed.includes(clientId)) return;
    behind = true;
    if (!running) follow();
  };
  // caught up: a late join hands this gdb the missed stop (Bridge.resume), a join of a newer run a
  // later stop
  const onJoined = (e: { client: number }) => {
    if (e.client === clientId) behind = false;
  };
  bridge.on('running', onRunning);
  bridge.on('stop', onStop);
  bridge.on('joined', onJoined);
  return {
    clientId,
    stop() {
      bridge.off('running', onRunning);
      bridge.off('stop', onStop);
      bridge.off('joined', onJoined);
      gdb.off('running', onGdbRunning);
      gdb.off('stopped', onGdbStopped);
      following(false);
      try { bridge.setFollower(clientId, false); } catch { /* gone */ }
    },
  };
}
