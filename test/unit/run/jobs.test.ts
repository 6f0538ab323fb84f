import t from 'tap';
import { defaultJobs, inPool } from '../../../harness/run/jobs.ts';

const GiB = 2 ** 30;

t.test('default jobs: a core and RAM for every guest, at least one', async (t) => {
  t.equal(defaultJobs({ cores: 2, memoryBytes: 24 * GiB }, 3, 768).jobs, 1, 'this machine: 2 cores, one cluster');
  t.equal(defaultJobs({ cores: 16, memoryBytes: 64 * GiB }, 3, 768).jobs, 5, 'a KVM runner: by cores');
  t.equal(defaultJobs({ cores: 64, memoryBytes: 8 * GiB }, 3, 768).jobs, 2, 'little memory: by memory');
  t.match(defaultJobs({ cores: 2, memoryBytes: 24 * GiB }, 3, 768).why, /2 cores and 24 GiB .*: 0 by cores, 8 by memory/);
});

t.test('the pool runs at most jobs at once, and each promise settles with its own item', async (t) => {
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const ps = inPool([30, 10, 20, 5, 1], 2, async (ms, i) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    order.push(i);
    if (i === 3) throw new Error('item 3 failed');
    return ms * 2;
  });
  const settled = await Promise.allSettled(ps);
  t.equal(most, 2);
  t.same(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)), [60, 20, 40, 'item 3 failed', 2]);
  t.notSame(order, [0, 1, 2, 3, 4], 'later items finished first where they were shorter');
});

t.test('an item that releases its place lets the next start while it finishes', async (t) => {
  const events: string[] = [];
  const ps = inPool(['a', 'b'], 1, async (name, _i, release) => {
    events.push(`${name} start`);
    await new Promise((r) => setTimeout(r, 5));
    release();
    // The cluster is gone; the judging goes on while the next case starts.
    await new Promise((r) => setTimeout(r, 20));
    events.push(`${name} end`);
    return name;
  });
  t.same(await Promise.all(ps), ['a', 'b']);
  t.same(events, ['a start', 'b start', 'a end', 'b end'], 'b started before a ended, and never two before a released');
});
