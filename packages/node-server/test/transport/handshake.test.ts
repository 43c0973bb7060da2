import t from 'tap';
import { answerChallenge, checkAuth, checkWelcome, CLOSE, makeChallenge } from '../../src/transport/handshake.js';
import { TransportError } from '../../src/transport/errors.js';

const acceptor = { clusterId: 'c', nodeId: 2, secret: 'sesame' };
const dialer = { clusterId: 'c', nodeId: 1, secret: 'sesame' };

function closeCodeOf(fn: () => unknown): number | string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    return e instanceof TransportError && e.code === 'TRANSPORT_HANDSHAKE_REJECTED' ? (e.closeCode ?? 'no code') : `other: ${String(e)}`;
  }
}

t.test('both sides prove the secret: accepted, dialer id learned', async (t) => {
  const ch = makeChallenge(acceptor);
  const ans = answerChallenge(dialer, 2, ch.frame);
  const auth = checkAuth(acceptor, ch.nonce, ans.frame);
  t.equal(auth.peer, 1);
  t.equal(
    closeCodeOf(() => checkWelcome(ans.expectedWelcome, auth.frame)),
    'accepted',
  );
});

t.test('wrong secret on either side is refused with badProof', async (t) => {
  const ch = makeChallenge(acceptor);
  const ans = answerChallenge({ ...dialer, secret: 'guess' }, 2, ch.frame);
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, ch.nonce, ans.frame)),
    CLOSE.badProof,
  );
  const good = answerChallenge(dialer, 2, ch.frame);
  const fakeAcceptor = checkAuth({ ...acceptor, secret: 'sesame' }, ch.nonce, good.frame);
  const other = answerChallenge(dialer, 2, makeChallenge(acceptor).frame);
  t.equal(
    closeCodeOf(() => checkWelcome(other.expectedWelcome, fakeAcceptor.frame)),
    CLOSE.badProof,
    'a welcome for another exchange is refused',
  );
});

t.test('a replayed auth fails against a fresh nonce', async (t) => {
  const first = makeChallenge(acceptor);
  const ans = answerChallenge(dialer, 2, first.frame);
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, first.nonce, ans.frame)),
    'accepted',
  );
  const second = makeChallenge(acceptor);
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, second.nonce, ans.frame)),
    CLOSE.badProof,
  );
});

t.test('wrong cluster, wrong node, own id, malformed', async (t) => {
  const ch = makeChallenge(acceptor);
  t.equal(
    closeCodeOf(() => answerChallenge({ ...dialer, clusterId: 'd' }, 2, ch.frame)),
    CLOSE.wrongCluster,
  );
  t.equal(
    closeCodeOf(() => answerChallenge(dialer, 3, ch.frame)),
    CLOSE.wrongNode,
  );
  const ans = answerChallenge({ ...dialer, clusterId: 'd' }, 2, makeChallenge({ ...acceptor, clusterId: 'd' }).frame);
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, ch.nonce, ans.frame)),
    CLOSE.wrongCluster,
  );
  const self = answerChallenge({ ...dialer, nodeId: 2 }, 2, ch.frame);
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, ch.nonce, self.frame)),
    CLOSE.wrongNode,
  );
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, ch.nonce, new Uint8Array([1, 2, 3]))),
    CLOSE.handshakeMalformed,
  );
  t.equal(
    closeCodeOf(() => checkAuth(acceptor, ch.nonce, ch.frame)),
    CLOSE.handshakeMalformed,
    'a challenge is not an auth',
  );
});
