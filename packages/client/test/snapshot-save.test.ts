import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../src/client.js';
import {
  ADMIN_OPS,
  parseRequest,
  parseResponse,
  SNAPSHOT_CHUNK_BYTES_MAX,
  type ClientRequest,
  type SnapshotInfo,
} from '../src/protocol.js';
import { EXIT, runCli } from '../src/run-cli.js';
import { BackupFileError, encodeBackupHeader, readBackupFile } from '../src/snapshot-backup.js';
import { fakeNode, type Action } from './support/fake-node.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SHA = 'a'.repeat(64);

function dir(t: { teardown(fn: () => unknown): unknown }): string {
  const d = mkdtempSync(join(tmpdir(), 'kvapp-snap-save-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('snapshot-read requests: offset required, index and checksum together, strict types', async (t) => {
  const ok = (x: object) => parseRequest(JSON.stringify({ v: 1, id: 7, op: 'snapshot-read', ...x }));
  t.ok(ADMIN_OPS.includes('snapshot-read'), 'an admin op: it needs the token');
  t.ok(ok({ offset: 0 }).ok);
  t.ok(ok({ offset: 524288, index: 12, checksum: SHA, token: 'x' }).ok);
  const refused: [object, RegExp][] = [
    [{}, /missing field "offset"/],
    [{ offset: -1 }, /offset must be an integer >= 0/],
    [{ offset: 1.5 }, /offset must be an integer/],
    [{ offset: '0' }, /offset must be an integer/],
    [{ offset: 0, index: 0, checksum: SHA }, /index must be an integer >= 1/],
    [{ offset: 0, index: 3 }, /give both or neither/],
    [{ offset: 0, checksum: SHA }, /give both or neither/],
    [{ offset: 0, index: 3, checksum: 'A'.repeat(64) }, /checksum must be 64 lowercase hex/],
    [{ offset: 0, index: 3, checksum: 'ab' }, /checksum must be 64 lowercase hex/],
    [{ offset: 0, extra: 1 }, /unknown field "extra"/],
    [{ offset: 0, token: 5 }, /token must be a string/],
  ];
  for (const [body, message] of refused) {
    const p = ok(body);
    t.notOk(p.ok, JSON.stringify(body));
    if (!p.ok) {
      t.equal(p.response.id, 7);
      t.match(p.response, { ok: false, error: { code: 'bad_request', message } }, JSON.stringify(body));
    }
  }
  // `offset` is not a field of other ops.
  t.notOk(parseRequest(JSON.stringify({ v: 1, id: 1, op: 'snapshot-now', offset: 0 })).ok);
});

t.test('snapshot-read answers: snapshot and data together, base64, at most a chunk, a sha256 checksum', async (t) => {
  const info: SnapshotInfo = { index: 5, term: 2, bytes: 10, checksum: SHA };
  const resp = (x: object) => parseResponse(JSON.stringify({ v: 1, id: 1, ok: true, ...x }));
  t.ok(resp({ snapshot: info, data: Buffer.from('hello').toString('base64') }).ok);
  t.ok(resp({ snapshot: info, data: '' }).ok, 'an empty chunk');
  t.ok(resp({ snapshot: info, data: Buffer.alloc(SNAPSHOT_CHUNK_BYTES_MAX).toString('base64') }).ok, 'a whole chunk');
  const bad: [object, RegExp][] = [
    [{ snapshot: info }, /data and snapshot come together/],
    [{ data: 'aGk=' }, /data and snapshot come together/],
    [{ snapshot: info, data: 'not base64!' }, /data must be base64/],
    [{ snapshot: info, data: 'aGk' }, /data must be base64/],
    [{ snapshot: info, data: Buffer.alloc(SNAPSHOT_CHUNK_BYTES_MAX + 3).toString('base64') }, /more than/],
    [{ snapshot: { ...info, checksum: 'xyz' }, data: '' }, /snapshot.checksum/],
    [{ snapshot: { ...info, bytes: 0 }, data: '' }, /snapshot.bytes/],
    [{ snapshot: { ...info, more: 1 }, data: '' }, /unknown field "more"/],
    [{ snapshot: { index: 5, term: 2, bytes: 10 }, data: '' }, /missing field "checksum"/],
  ];
  for (const [body, message] of bad) {
    const p = resp(body);
    t.notOk(p.ok, JSON.stringify(body).slice(0, 80));
    if (!p.ok) t.match(p.message, message);
  }
});

/** A node that holds `files` in turn: the snapshot changes to the next after `changeAfter` chunks of the first. */
function snapshotNode(files: Buffer[], o: { changeAfter?: number; chunk?: number; lie?: boolean } = {}) {
  let current = 0;
  let served = 0;
  const infoOf = (i: number): SnapshotInfo => ({
    index: 10 + i,
    term: 3,
    bytes: files[i]!.length,
    checksum: o.lie ? sha(Buffer.from('other')) : sha(files[i]!),
  });
  const chunk = o.chunk ?? 1000;
  return (req: ClientRequest): Action => {
    if (req.op === 'snapshot-now') return { reply: { ok: true, index: 10 + current } };
    if (req.op !== 'snapshot-read') return { silent: true };
    const info = infoOf(current);
    if (req.index !== undefined && (req.index !== info.index || req.checksum !== info.checksum))
      return { reply: { ok: false, error: { code: 'refused', message: 'the snapshot changed' } } };
    const data = files[current]!.subarray(req.offset, req.offset + chunk);
    served++;
    if (o.changeAfter !== undefined && served === o.changeAfter && current + 1 < files.length) current++;
    return { reply: { ok: true, snapshot: info, data: data.toString('base64') } };
  };
}

t.test(
  'saveSnapshot reads every chunk from one node and writes the file with a header; starts again when the snapshot changes',
  async (t) => {
    const first = Buffer.alloc(3500, 1);
    const second = Buffer.alloc(4200, 2);
    const node = await fakeNode(snapshotNode([first, second], { changeAfter: 2 }));
    t.teardown(() => node.close());
    const d = dir(t);
    const file = join(d, 'backup.snap');
    const client = new KvClient({ endpoints: [node.endpoint] });
    t.teardown(() => client.close());
    const o = await client.saveSnapshot(file);
    t.match(o, { status: 'ok', snapshot: { index: 11, bytes: 4200, checksum: sha(second) }, restarts: 1, chunks: 5 });
    const { header, payload } = await readBackupFile(file);
    t.same(payload, second, 'the file holds the second snapshot, whole');
    t.equal(header.index, 11);
    const reads = node.requests.filter((r) => r.op === 'snapshot-read');
    t.same(
      reads.map((r) => (r.op === 'snapshot-read' ? [r.offset, r.index ?? null] : null)),
      [
        [0, null],
        [1000, 10],
        [2000, 10],
        [0, null],
        [1000, 11],
        [2000, 11],
        [3000, 11],
        [4000, 11],
      ],
      'after the refusal it starts from offset 0 naming no snapshot',
    );
    t.same(readdirSync(d), ['backup.snap'], 'no temp file left');
  },
);

t.test('bytes that do not match the checksum the node named: fail, and nothing at the file', async (t) => {
  const node = await fakeNode(snapshotNode([Buffer.alloc(2500, 7)], { lie: true }));
  t.teardown(() => node.close());
  const d = dir(t);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--endpoints', node.endpoint, 'snapshot', 'save', join(d, 'x.snap')], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
  });
  t.equal(code, EXIT.fail);
  t.equal(err.length, 1, 'one line');
  t.match(err[0], /^snapshot save: nothing saved \(file\): the bytes read .* are not the snapshot the node named/);
  t.same(readdirSync(d), [], 'nothing written, no temp file');
});

t.test('kvapp snapshot save prints one line; refusals and unauthorized are one line, exit 1', async (t) => {
  const payload = Buffer.alloc(1234, 9);
  const node = await fakeNode(snapshotNode([payload]));
  t.teardown(() => node.close());
  const d = dir(t);
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: { KVAPP_ADMIN_TOKEN: 'tok' } };
  const code = await runCli(['--endpoints', node.endpoint, 'snapshot', 'save', join(d, 'b.snap')], io);
  t.equal(code, EXIT.ok, err.join('\n'));
  t.same(out, [`ok: snapshot saved to ${join(d, 'b.snap')}: index 10, term 3, 1234 bytes, sha256 ${sha(payload)} (from ${node.endpoint})`]);
  t.ok(
    node.requests.every((r) => 'token' in r && r.token === 'tok'),
    'every request carries the admin token',
  );
  t.equal(node.requests[0]!.op, 'snapshot-now', 'a fresh snapshot first');

  const denied = await fakeNode(() => ({ reply: { ok: false, error: { code: 'unauthorized', message: 'the admin token is wrong' } } }));
  t.teardown(() => denied.close());
  err.length = 0;
  t.equal(await runCli(['--endpoints', denied.endpoint, 'snapshot', 'save', join(d, 'c.snap')], io), EXIT.fail);
  t.equal(err.length, 1);
  t.match(err[0], /snapshot save: nothing saved \(unauthorized\): snapshot-now: the admin token is wrong \(give --admin-token/);
  t.notOk(existsSync(join(d, 'c.snap')));
});

t.test('readBackupFile checks the header, the length and the sha256', async (t) => {
  const d = dir(t);
  const payload = Buffer.from('the node snapshot bytes');
  const info = { index: 4, term: 1, bytes: payload.length, checksum: sha(payload) };
  const good = Buffer.concat([encodeBackupHeader(info), payload]);
  writeFileSync(join(d, 'good'), good);
  t.same((await readBackupFile(join(d, 'good'))).payload, payload);
  t.match(readFileSync(join(d, 'good'), 'utf8').split('\n')[0], /^\{"format":"kvapp-snapshot","version":1,"index":4,"term":1,/);
  const flipped = Buffer.from(good);
  flipped[flipped.length - 3] ^= 1;
  const cases: [string, Buffer, RegExp][] = [
    ['flipped', flipped, /checksum mismatch/],
    ['truncated', good.subarray(0, good.length - 1), /truncated/],
    ['noheader', Buffer.from('garbage without a newline'), /no header line/],
    ['notjson', Buffer.from('hello\nworld'), /not JSON/],
    ['otherformat', Buffer.from('{"format":"x"}\n'), /not a kvapp-snapshot file/],
  ];
  for (const [name, bytes, message] of cases) {
    writeFileSync(join(d, name), bytes);
    await t.rejects(readBackupFile(join(d, name)), BackupFileError, name);
    await t.rejects(readBackupFile(join(d, name)), { message }, name);
  }
});
