import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SNAPSHOT_CHUNK_BYTES_MAX } from '@kvapp/client/protocol';
import type { Snapshot } from '@kvapp/core';
import { decodeSnapshotFile, encodeSnapshotFile, removeOlderSnapshots, writeSnapshotFile } from '../../src/snapshot/snapshot-file.js';
import { SnapshotReader } from '../../src/snapshot/snapshot-reader.js';
import { createAdminHandler } from '../../src/node/admin-handler.js';
import type { KernelHost } from '../../src/node/kernel-host.js';
import type { MemberDirectory } from '../../src/node/member-directory.js';
import { tmpDir } from '../wal/tmp-dir.js';

const conf = { voters: [1, 2, 3], learners: [], votersOutgoing: [] };
const snap = (index: number, term: number, bytes: number): Snapshot => ({ meta: { index, term, conf }, data: randomBytes(bytes) });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function snapDir(t: Parameters<typeof tmpDir>[0]): string {
  const dir = join(tmpDir(t), 'snap');
  mkdirSync(dir);
  return dir;
}

t.test('chunks of the newest snapshot file, each at most a chunk, that put together are the file', async (t) => {
  const dir = snapDir(t);
  const s = snap(40, 3, 2 * SNAPSHOT_CHUNK_BYTES_MAX + 1000);
  await writeSnapshotFile(dir, snap(20, 2, 100));
  await writeSnapshotFile(dir, s);
  const file = encodeSnapshotFile(s);
  const reader = new SnapshotReader(dir);
  const parts: Buffer[] = [];
  let offset = 0;
  let expect;
  for (;;) {
    const r = await reader.read(offset, expect);
    if (!r.ok) throw new Error(r.message);
    t.same(r.snapshot, { index: 40, term: 3, bytes: file.length, checksum: sha(file) });
    t.ok(r.data.length <= SNAPSHOT_CHUNK_BYTES_MAX);
    parts.push(r.data);
    offset += r.data.length;
    expect = { index: r.snapshot.index, checksum: r.snapshot.checksum };
    if (offset === r.snapshot.bytes) break;
  }
  t.equal(parts.length, 3, 'three chunks');
  const whole = Buffer.concat(parts);
  t.same(decodeSnapshotFile(whole, 'joined'), s, 'the chunks make the snapshot file back');
  const end = await reader.read(offset, expect);
  t.match(end, { ok: true }, 'reading at the end answers an empty chunk');
  if (end.ok) t.equal(end.data.length, 0);
  t.match(await reader.read(offset + 1, expect), { ok: false, code: 'bad_request', message: /past the snapshot/ });
});

t.test('a snapshot that changes between chunks is refused, and the client can start over on the new one', async (t) => {
  const dir = snapDir(t);
  await writeSnapshotFile(dir, snap(10, 1, SNAPSHOT_CHUNK_BYTES_MAX + 10));
  const reader = new SnapshotReader(dir);
  const first = await reader.read(0);
  if (!first.ok) throw new Error(first.message);
  const expect = { index: first.snapshot.index, checksum: first.snapshot.checksum };

  // The node compacts again meanwhile: a newer file, the old one removed.
  await writeSnapshotFile(dir, snap(25, 2, 300));
  await removeOlderSnapshots(dir, 25);
  t.match(await reader.read(first.data.length, expect), {
    ok: false,
    code: 'refused',
    message: /the snapshot changed while being read \(was index 10, now 25\); start again/,
  });
  const again = await reader.read(0);
  t.match(again, { ok: true, snapshot: { index: 25, term: 2 } }, 'from offset 0 without naming one: the new snapshot');

  // The same index written again with other bytes (a snapshot installed from the leader): refused too.
  if (!again.ok) return;
  await writeSnapshotFile(dir, snap(25, 2, 300));
  t.match(await reader.read(10, { index: 25, checksum: again.snapshot.checksum }), {
    ok: false,
    code: 'refused',
    message: /was index 25, now 25 with other bytes/,
  });
});

t.test('no snapshot file yet: refused, asking for snapshot-now', async (t) => {
  const reader = new SnapshotReader(snapDir(t));
  t.match(await reader.read(0), { ok: false, code: 'refused', message: /holds no snapshot yet/ });
});

t.test('the admin handler answers snapshot-read on any node (no redirect), base64, and checks the token first', async (t) => {
  const dir = snapDir(t);
  const s = snap(7, 1, 1000);
  await writeSnapshotFile(dir, s);
  const handler = createAdminHandler({
    driver: { status: () => ({ conf }) } as unknown as KernelHost,
    directory: {} as MemberDirectory,
    access: (token) => (token === 'good' ? null : 'the admin token is wrong'),
    notLeader: () => ({ ok: false, error: { code: 'not_leader', message: 'not the leader', leader: null } }),
    snapshots: new SnapshotReader(dir),
  });
  const from = {} as Parameters<typeof handler>[1];
  const r = await handler({ v: 1, id: 1, op: 'snapshot-read', offset: 0, token: 'good' }, from);
  t.match(r, { ok: true, snapshot: { index: 7, term: 1 } }, 'a follower answers it');
  if (r.ok) t.same(Buffer.from(r.data!, 'base64'), Buffer.from(encodeSnapshotFile(s)));
  t.match(await handler({ v: 1, id: 2, op: 'snapshot-read', offset: 0, token: 'bad' }, from), {
    ok: false,
    error: { code: 'unauthorized' },
  });
  t.match(await handler({ v: 1, id: 3, op: 'snapshot-read', offset: 0, index: 8, checksum: 'b'.repeat(64), token: 'good' }, from), {
    ok: false,
    error: { code: 'refused', message: /was index 8, now 7/ },
  });
});
