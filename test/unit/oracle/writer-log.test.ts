import t from 'tap';
import { parseWriterLog } from '../../../harness/oracle/writer-log.ts';

const start = '{"op":"write-start","t":1795625308725638887,"run":7,"node":2,"seq":1,"block":0,"offset":0}';
const ack = '{"op":"write","t":1795625308728446287,"start":1795625308725638887,"run":7,"node":2,"seq":1,"block":0,"offset":0}';

t.test('parses start and ack lines', async (t) => {
  const events = parseWriterLog(`${start}\n${ack}\n`, 'w.jsonl');
  t.match(events, [{ op: 'write-start', node: 2, seq: 1 }, { op: 'write', block: 0 }]);
  t.ok(events[1]!.t > events[0]!.t, 'ns timestamps keep their order');
});

t.test('a partial last line (crash mid-write) is dropped, a partial middle line is an error', async (t) => {
  t.equal(parseWriterLog(`${start}\n${ack.slice(0, 30)}`, 'w.jsonl').length, 1);
  t.throws(() => parseWriterLog(`${ack.slice(0, 30)}\n${start}\n`, 'w.jsonl'), /^w\.jsonl:1: not JSON/);
});

t.test('lines missing fields or with unknown ops name file and line', async (t) => {
  t.throws(() => parseWriterLog(`${start}\n{"op":"write","t":5,"run":7,"node":2,"seq":1,"block":0,"offset":0}\n`, 'n2.log'), {
    message: 'n2.log:2: field "start" missing or not a non-negative number',
  });
  t.throws(() => parseWriterLog('{"op":"trim","t":1}\n', 'n2.log'), { message: 'n2.log:1: unknown op "trim"' });
});
