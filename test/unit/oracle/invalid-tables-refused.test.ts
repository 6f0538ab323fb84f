import t from 'tap';
import { checkInvalidTablesRefused } from '../../../harness/oracle/checks/invalid-tables-refused.ts';
import { dumpText } from '../../fixtures/oracle/cmirrord.ts';

const load = (variant: string, refused = true, leftDevice = false) => ({
  node: 2,
  mirror: 0,
  variant,
  uuid: `clogtest-0000002a-m0-${variant}`,
  refusedBy: 'cmirrord clog_ctr',
  refused,
  leftDevice,
  error: 'device-mapper: reload ioctl on clog0-invalid failed: Invalid argument',
});
const dump = (uuids: string[], pending = false) => dumpText(uuids.map((uuid) => ({ uuid, regions: 128, sync: () => true, clean: () => true, pending })));

t.test('every table refused, nothing left: passes, counting the tables', async (t) => {
  const v = await checkInvalidTablesRefused({ loads: [load('unknown-log-type'), load('missing-leg')], dumps: [{ node: 2, text: dump(['clogtest-0000002a-m0']) }] });
  t.equal(v.valid, true, v.detail);
  t.same(v.judged[0], { n: 2, what: 'malformed tables' });
});

t.test('an accepted table, a device left, a log left: one finding each, naming node and variant', async (t) => {
  const v = await checkInvalidTablesRefused({
    loads: [load('unknown-log-type', false), load('too-few-log-args', true, true), load('missing-leg')],
    dumps: [{ node: 3, text: dump(['clogtest-0000002a-m0-missing-leg'], true) }],
  });
  t.equal(v.valid, false);
  t.same(v.findings.map((f) => f.kind), ['invalid-table-accepted', 'device-left-behind', 'log-left-behind']);
  t.match(v.detail, 'node2: the unknown-log-type table of mirror 0 loaded; cmirrord clog_ctr should have refused it');
  t.match(v.detail, 'node3: cmirrord still holds the log of the refused missing-leg table (clogtest-0000002a-m0-missing-leg) on its pending list');
});

t.test('no malformed table loaded: unknown, never a pass', async (t) => {
  const v = await checkInvalidTablesRefused({ loads: [], dumps: [] });
  t.equal(v.valid, 'unknown');
});
