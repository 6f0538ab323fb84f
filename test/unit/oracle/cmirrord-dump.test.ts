import t from 'tap';
import { bitSet, lastCmirrordDump, parseCmirrordDumps } from '../../../harness/oracle/cmirrord-dump.ts';
import { dumpText } from '../../fixtures/oracle/cmirrord.ts';

/** What `cmirrord -f` printed on SIGUSR1 with one resumed log of 20 regions (region 10 dirty), verbatim in shape. */
const DUMP = `Starting cmirrord:
 Built: Nov 25 2026 16:00:00

LOG COMPONENT DEBUGGING::
Official log list:
Pending log list:
LVM-clogtest-m0-000000000000000000000000000000000001
  recoverer        : 2
  recovering_region: 18446744073709551615
  recovery_halted  : NO
sync_bits:
[  0 -  15] FF FF 0F
clean_bits:
[  0 -  15] FF FB 0F
Validating 00000001::
  lc->region_count = 20
  lc->sync_count = 20
  next zero bit  = 20
Resync request history:
0:3) [00000001] Initial sync_count = 20
1:4) GET - SEQ#=17, UUID=00000001, nodeid = 2:: Recovery finished

CLUSTER COMPONENT DEBUGGING::
00000001::
  lowest_id         : 1
  state             : VALID
  cpg_state         : 2
  free_me           : 0
  delay             : 0
  resend_requests   : 0
  checkpoints_needed: 0
  CKPTs waiting     : 0
  Working list:
  DM_ULOG_FLUSH/412
  Startup list:
Command History:
0:11) SEQ#=411, UUID=00000001, TYPE=DM_ULOG_MARK_REGION, ORIG=1, RESP=NO
`;

t.test('parses a foreground dump: log fields, bitmaps, cluster group', async (t) => {
  const d = lastCmirrordDump(DUMP);
  t.equal(d.logs.length, 1);
  const log = d.logs[0]!;
  t.match(log, { short: '00000001', pending: false, recoverer: 2, recoveryHalted: false, regionCount: 20, syncCount: 20 });
  t.equal(log.recoveringRegion, 18446744073709551615n);
  t.same([...log.syncBits], [0xff, 0xff, 0x0f]);
  t.equal(bitSet(log.cleanBits, 10), false);
  t.equal(bitSet(log.cleanBits, 9), true);
  t.equal(log.resyncHistory.length, 2);
  t.match(d.groups, [{ short: '00000001', lowestId: 1, state: 'VALID', cpgState: 2, working: ['DM_ULOG_FLUSH/412'], startup: [] }]);
  t.equal(d.groups[0]!.history.length, 1);
});

t.test('syslog prefixes and tabs are stripped; the last of several dumps wins', async (t) => {
  const older = dumpText([{ uuid: 'LVM-aaaa0000000000000001', regions: 40, sync: () => true, clean: () => true }]);
  const newer = dumpText([{ uuid: 'LVM-aaaa0000000000000001', regions: 40, sync: () => true, clean: (r) => r !== 33 }]);
  const syslog = newer
    .split('\n')
    .map((l) => `Nov 25 17:01:44 node2 cmirrord[321]: \t${l}`)
    .join('\n');
  const dumps = parseCmirrordDumps(`${older}some other line\n${syslog}`);
  t.equal(dumps.length, 2);
  const last = lastCmirrordDump(`${older}${syslog}`).logs[0]!;
  t.equal(bitSet(last.cleanBits, 33), false);
  t.equal(last.cleanBits.length, 5);
});

t.test('multi-row bitmaps and pending logs', async (t) => {
  const text = dumpText([
    { uuid: 'LVM-pending00000002', regions: 200, sync: () => false, clean: () => false, pending: true },
    { uuid: 'LVM-official00000001', regions: 200, sync: (r) => r < 150, clean: () => true },
  ]);
  const d = lastCmirrordDump(text);
  t.match(d.logs, [{ pending: true, short: '00000002' }, { pending: false, short: '00000001', syncCount: 150 }]);
  t.equal(d.logs[1]!.syncBits.length, 25);
  t.equal(bitSet(d.logs[1]!.syncBits, 149), true);
  t.equal(bitSet(d.logs[1]!.syncBits, 150), false);
});

t.test('malformed dumps throw naming the line', async (t) => {
  t.throws(() => lastCmirrordDump('nothing here\n'), /no cmirrord state dump/);
  t.throws(() => parseCmirrordDumps(DUMP.replace('  recovery_halted  : NO', '  recovery_halted  : MAYBE')), /line 10: recovery_halted/);
  t.throws(() => parseCmirrordDumps(DUMP.replace('[  0 -  15] FF FB 0F', '[ 16 -  31] FF FB 0F')), /bitmap row starts at byte 16/);
});
