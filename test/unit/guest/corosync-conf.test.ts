import t from 'tap';
import { corosyncConf } from '../../../harness/guest/cluster/corosync-conf.ts';

const three = [
  { id: 1, ip: '192.168.77.1' },
  { id: 2, ip: '192.168.77.2' },
  { id: 3, ip: '192.168.77.3' },
];

t.test('every block spans several lines', async (t) => {
  const conf = corosyncConf({ clusterName: 'c', nodes: three });
  const oneLine = conf.split('\n').filter((l) => /\{.*\}/.test(l));
  t.same(oneLine, []);
  const opens = conf.split('\n').filter((l) => l.trim().endsWith('{')).length;
  const closes = conf.split('\n').filter((l) => l.trim() === '}').length;
  t.equal(opens, closes);
  t.equal(opens, 4 + three.length);
});

t.test('totem, nodelist, quorum and logging', async (t) => {
  const conf = corosyncConf({ clusterName: 'clog', nodes: three, tokenMs: 5000 });
  t.match(conf, /^totem \{\n {4}version: 2\n {4}cluster_name: clog\n {4}transport: knet\n {4}crypto_cipher: none\n {4}crypto_hash: none\n {4}token: 5000\n\}/m);
  for (const n of three) {
    t.match(conf, new RegExp(`node \\{\\n {8}ring0_addr: ${n.ip.replace(/\./g, '\\.')}\\n {8}name: node${n.id}\\n {8}nodeid: ${n.id}\\n {4}\\}`));
  }
  t.match(conf, /quorum \{\n {4}provider: corosync_votequorum\n\}/);
  t.notMatch(conf, /two_node/);
  t.match(conf, /logfile: \/var\/log\/clogtest\/corosync\.log/);
  t.match(conf, /to_logfile: yes/);
  t.match(conf, /to_syslog: no/);
  t.match(conf, /timestamp: on/);
});

t.test('two nodes get two_node', async (t) => {
  const conf = corosyncConf({ clusterName: 'c', nodes: three.slice(0, 2) });
  t.match(conf, /quorum \{\n {4}provider: corosync_votequorum\n {4}two_node: 1\n\}/);
  t.match(conf, /token: 3000/);
});

t.test('bad input', async (t) => {
  t.throws(() => corosyncConf({ clusterName: 'has space', nodes: three }), /cluster name/);
  t.throws(() => corosyncConf({ clusterName: 'c', nodes: [three[0]!, three[0]!] }), /unique/);
});
