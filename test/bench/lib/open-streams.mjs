// 1,000 concurrent open streams through a fresh gateway process: peak RSS (VmHWM from /proc, and VmRSS
// sampled every 100 ms) and the longest event-loop stall, read from the preloaded loop probe
// (test/bench/loop-probe.cjs) and, where the daemon exposes it, from its own /metrics.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, memory, resetPeakRss, sampleRss, stop } from './procs.mjs';
import { openStreams, pacedStreams } from './streams.mjs';
import { UPSTREAMS } from './targets.mjs';

export async function openStreamsPhase({ start, plan, logDir }) {
  const probeFile = join(logDir, `loop-probe-${Date.now()}.txt`);
  const target = await start(probeFile);
  try {
    await pacedStreams([target], { runs: 2, warmup: 1 }); // the code paths are loaded, pools exist
    await sleep(300);
    const idle = memory(target.pid);
    const hwmReset = resetPeakRss(target.pid);
    const stopSampling = sampleRss(target.pid, 100);
    const cpuBefore = cpuSeconds(target.pid);
    const from = Date.now();
    const streams = await openStreams(target, { n: plan.openStreams, rampMs: plan.rampMs });
    const to = Date.now();
    const sampledPeakMb = stopSampling();
    const cpuS = cpuSeconds(target.pid) - cpuBefore;
    const after = memory(target.pid);
    await sleep(300); // the probe's last window is written
    const windows = readFileSync(probeFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ').map(Number))
      .filter(([t]) => t > from && t <= to + 250);
    const loopMaxMs = Math.max(...windows.map((w) => w[1]));
    // Steady state: every stream open, none finished yet (after the ramp, before the first one ends).
    const steadyFrom = from + plan.rampMs + 250;
    const steadyTo = from + UPSTREAMS.slow.gapMs * (UPSTREAMS.slow.chunks - 1);
    const steady = windows.filter(([t]) => t > steadyFrom && t <= steadyTo);
    const loopMaxSteadyMs = steady.length > 0 ? Math.max(...steady.map((w) => w[1])) : NaN;
    const metricsLag = await daemonLoopMetric(target);
    return {
      ...streams,
      idleRssMb: idle.rssMb,
      cpuSeconds: cpuS,
      peakRssMb: hwmReset ? after.hwmMb : sampledPeakMb,
      peakRssSource: hwmReset ? 'VmHWM (reset before the phase)' : 'VmRSS sampled every 100 ms',
      sampledPeakRssMb: sampledPeakMb,
      loopMaxMs,
      loopMaxSteadyMs,
      // [ms since the phase began, longest delay in that 250 ms window]
      loopWindows: windows.map(([t, max]) => [t - from, max]),
      ...(metricsLag === undefined ? {} : { metricsLoopLagMaxMs: metricsLag }),
    };
  } finally {
    await stop(target.proc);
    rmSync(probeFile, { force: true });
    if (target.dataDir) rmSync(target.dataDir, { recursive: true, force: true });
  }
}

/**
 * The daemon's own measure of the same thing: shepherd_event_loop_delay_seconds{quantile="max"} on its
 * /metrics is the longest delay since the previous scrape, and nothing scrapes it during the phase.
 */
async function daemonLoopMetric(target) {
  if (target.name !== 'shepherd') return undefined;
  try {
    const res = await fetch(`${target.originFor()}/metrics`);
    const m = /^shepherd_event_loop_delay_seconds\{quantile="max"\} ([0-9.e+-]+)/m.exec(await res.text());
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
