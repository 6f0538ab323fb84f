import t from 'tap';
import { bestReading, clockSkewNs, readClock, relativeSeconds, syncClock, UNMEASURED_SKEW_NS, type Shell } from '../../../harness/guest/cluster/clock.ts';
import type { LineSession } from '../../../harness/guest/remote/ssh.ts';
import { CLOCK_MARK, CLOCK_MARK_END, CLOCK_SET, kernelClock } from '../../../harness/oracle/kernel-clock.ts';

t.test('the probe with the shortest round trip wins, and its midpoint is the host time', async (t) => {
  const r = bestReading(2, [
    { sentNs: 1000, answeredNs: 3000, guestNs: 9000 },
    { sentNs: 5000, answeredNs: 5400, guestNs: 5700 },
  ], 0, 'boot');
  t.same(r, { node: 2, offsetNs: 500, errorNs: 200, at: 0, batch: 'boot' });
  t.throws(() => bestReading(1, [], 0, 'boot'), /no clock probe/);
});

t.test('skew is the widest gap between offsets of one batch plus both errors', async (t) => {
  const r = (node: number, offsetNs: number, errorNs: number, batch = 'boot') => ({ node, offsetNs, errorNs, at: 0, batch });
  t.equal(clockSkewNs([]), UNMEASURED_SKEW_NS, 'nothing measured: a whole RTC second');
  t.equal(clockSkewNs([r(1, 0, 5)]), 10);
  t.equal(clockSkewNs([r(1, -300, 10), r(2, 400, 20), r(3, 0, 1)]), 730);
  t.equal(clockSkewNs([r(1, 0, 0), r(2, 90, 0)]), 90, 'two nodes drifting apart');
  t.equal(
    clockSkewNs([r(1, 0, 0), r(2, 5, 0), r(1, -4000, 0, 'end'), r(2, -3990, 0, 'end')]),
    10,
    'a freeze of the whole cluster shifts every clock alike: not skew',
  );
  t.equal(clockSkewNs([r(1, 0, 0), r(2, 5, 0), r(1, -4000, 0, 'end'), r(2, -1000, 0, 'end')]), 3000, 'one node paused alone is');
});

/** The guest's clock shell, answering as bash would: probes with their tag and $EPOCHREALTIME, a shift with "set". */
type Answer = (line: string) => Promise<string>;

function session(answer: Answer): LineSession {
  return { ask: (line) => answer(line), close: () => {} };
}

const hostNs = () => Math.round((performance.timeOrigin + performance.now()) * 1e6);
const epoch = (ns: number) => `${Math.floor(ns / 1e9)}.${String(Math.floor((ns % 1e9) / 1e3)).padStart(6, '0')}`;

/**
 * A guest whose clock runs offsetNs ahead of the host's; each line takes a few ms each way. Its kernel log
 * (kmsg) is stamped with a local clock that started at bootNs (host time) and that setting the wall clock
 * does not move.
 */
function fakeGuest(offsetNs: number): Shell & { offsetNs: number; answer: Answer; kmsg: string[]; bootNs: number } {
  const g = {
    id: 3,
    name: 'node3',
    offsetNs,
    kmsg: [] as string[],
    bootNs: hostNs() - 30e9,
    log(text: string) {
      const local = hostNs() - g.bootNs;
      g.kmsg.push(`[${String(Math.floor(local / 1e9)).padStart(5)}.${String(Math.floor((local % 1e9) / 1e3)).padStart(6, '0')}] ${text}`);
    },
    async answer(line: string) {
      await new Promise((r) => setTimeout(r, 2));
      const nowNs = hostNs() + g.offsetNs;
      const shift = /date -s '([-+]\d+\.\d{9}) seconds'/.exec(line);
      if (shift) {
        g.offsetNs += Math.round(Number(shift[1]) * 1e9);
        g.log(CLOCK_SET);
      }
      const mark = line.startsWith('a=$EPOCHREALTIME;');
      if (mark) {
        const a = hostNs() + g.offsetNs;
        g.log(`${CLOCK_MARK} ${epoch(a)}`);
        await new Promise((r) => setTimeout(r, 1));
        g.log(`${CLOCK_MARK_END} ${epoch(hostNs() + g.offsetNs)}`);
      }
      await new Promise((r) => setTimeout(r, 2));
      if (shift) return 'set';
      if (mark) return 'marked';
      const tag = /^echo (\d+) \$EPOCHREALTIME$/.exec(line)![1];
      return `${tag} ${Math.floor(nowNs / 1e9)}.${String(Math.floor((nowNs % 1e9) / 1e3)).padStart(6, '0')}`;
    },
    lines: async () => session((line) => g.answer(line)),
  };
  return g;
}

t.test('readClock measures a guest that runs ahead within its error bound', async (t) => {
  const g = fakeGuest(700_000_000);
  const r = await readClock(g, 1000, 'boot');
  t.ok(Math.abs(r.offsetNs - 700_000_000) <= r.errorNs + 1e6, `offset ${r.offsetNs} error ${r.errorNs}`);
});

t.test('syncClock shifts the guest by the measured offset and reports the residual', async (t) => {
  const g = fakeGuest(-450_000_000);
  const r = await syncClock(g, 1000, 'boot');
  t.ok(Math.abs(g.offsetNs) < 20_000_000, `guest left ${g.offsetNs} ns off`);
  t.ok(Math.abs(r.offsetNs) < 20_000_000, `reported residual ${r.offsetNs}`);
});

t.test('each reading marks the kernel log with the wall clock, after the clock was set', async (t) => {
  const g = fakeGuest(-450_000_000);
  await syncClock(g, 1000, 'boot');
  await readClock(g, 1000, 'end');
  t.match(g.kmsg.join('\n'), new RegExp(`${CLOCK_SET}[^]*${CLOCK_MARK} [^]*${CLOCK_MARK_END} [^]*${CLOCK_MARK} `));
  const k = kernelClock(g.kmsg.join('\n'))!;
  // The log's wall clock is the host's at boot plus the guest's offset since its clock was set.
  const truth = g.bootNs + g.offsetNs;
  t.equal(k.marks, 2, 'the marks of both readings, none from before the set');
  t.ok(Math.abs(k.offsetNs - truth) <= k.errorNs + 1e4, `offset ${k.offsetNs - truth} ns from the truth, error ${k.errorNs}`);
});

t.test('a guest that prints no clock is an error naming it', async (t) => {
  const g: Shell = { id: 1, name: 'node1', lines: async () => session(async () => 'bash: bad') };
  await t.rejects(readClock(g, 1000, 'boot'), /node1: clock probe 0 printed "bash: bad"/);
});

t.test('syncClock can set a guest to a peer\'s time instead of the host\'s', async (t) => {
  const g = fakeGuest(0);
  await syncClock(g, 1000, 'rejoin', -2_000_000_000);
  t.ok(Math.abs(g.offsetNs + 2_000_000_000) < 20_000_000, `guest left ${g.offsetNs} ns off`);
});

t.test('an unanswered probe, or a late answer to an earlier one, is dropped; a guest that answers none is an error', async (t) => {
  const g = fakeGuest(0);
  let calls = 0;
  const late = '0 1.000000';
  g.lines = async () =>
    session(async (line) => {
      if (++calls === 1) throw new Error('node3: no answer');
      if (calls === 2) return late;
      return g.answer(line);
    });
  t.ok(Math.abs((await readClock(g, 1000, 'boot')).offsetNs) < 20_000_000);
  const dead: Shell = { id: 2, name: 'node2', lines: async () => session(async () => { throw new Error('node2: ssh lost'); }) };
  await t.rejects(readClock(dead, 1000, 'boot'), /node2: ssh lost/);
});

t.test('a shift is written as GNU date relative seconds, to the nanosecond', async (t) => {
  t.equal(relativeSeconds(1_500_000_000), '+1.500000000');
  t.equal(relativeSeconds(-250_000), '-0.000250000');
  t.equal(relativeSeconds(-3_000_000_001), '-3.000000001');
  t.equal(relativeSeconds(0), '+0.000000000');
});
