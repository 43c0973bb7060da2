import t from 'tap';
import fc from 'fast-check';
import { encodeRequest, parseRequest, parseResponse, type ClientRequest } from '../src/protocol.js';

const seedOf = () => (process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : Date.now() >>> 1);
const str = fc.string({ unit: 'grapheme' });
const session = fc.record({ clientId: str, seq: fc.integer({ min: 1, max: 1e9 }) }, { noNullPrototype: true });
const base = { v: fc.constant(1 as const), id: fc.nat() };
const arbRequest: fc.Arbitrary<ClientRequest> = fc.oneof(
  fc.record(
    { ...base, op: fc.constant('get' as const), key: str, read: fc.constantFrom('linearizable' as const, 'serializable' as const) },
    { requiredKeys: ['v', 'id', 'op', 'key'], noNullPrototype: true },
  ),
  fc.record(
    { ...base, op: fc.constant('put' as const), key: str, value: str, session },
    { requiredKeys: ['v', 'id', 'op', 'key', 'value'], noNullPrototype: true },
  ),
  fc.record(
    { ...base, op: fc.constant('delete' as const), key: str, session },
    { requiredKeys: ['v', 'id', 'op', 'key'], noNullPrototype: true },
  ),
  fc.record(
    { ...base, op: fc.constant('cas' as const), key: str, expected: fc.option(str, { nil: null }), value: str, session },
    { requiredKeys: ['v', 'id', 'op', 'key', 'expected', 'value'], noNullPrototype: true },
  ),
  fc.record({ ...base, op: fc.constantFrom('register' as const, 'status' as const) }, { noNullPrototype: true }),
) as fc.Arbitrary<ClientRequest>;

t.test('every valid request survives encode → parse unchanged', async (t) => {
  const seed = seedOf();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  let error: unknown = null;
  try {
    fc.assert(
      fc.property(arbRequest, (r) => {
        const p = parseRequest(encodeRequest(r));
        if (!p.ok) throw new Error(`refused: ${JSON.stringify(p.response)}`);
        if (JSON.stringify(p.request) !== JSON.stringify(r)) throw new Error('changed');
      }),
      { seed, numRuns: 500 },
    );
  } catch (e) {
    error = e;
  }
  t.equal(error, null);
});

t.test('parseRequest and parseResponse never throw, whatever the text', async (t) => {
  const seed = seedOf();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  let error: unknown = null;
  try {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.anything().map((x) => {
            try {
              return JSON.stringify(x) ?? 'null';
            } catch {
              return '{}';
            }
          }),
        ),
        (text) => {
          const p = parseRequest(text);
          if (!p.ok && (p.response.ok || p.response.error.code !== 'bad_request')) throw new Error('refusal is not a bad_request');
          parseResponse(text);
        },
      ),
      { seed, numRuns: 2000 },
    );
  } catch (e) {
    error = e;
  }
  t.equal(error, null);
});

t.test('malformed requests: bad_request, with the id when it is readable', async (t) => {
  const refuse = (x: unknown) => {
    const p = parseRequest(typeof x === 'string' ? x : JSON.stringify(x));
    return p.ok ? 'accepted' : [p.response.id, p.response.ok ? '' : p.response.error.message];
  };
  t.match(refuse('nope'), [null, /JSON/]);
  t.match(refuse([1]), [null, /object/]);
  t.match(refuse({ v: 1, op: 'get', key: 'k' }), [null, /id/]);
  t.match(refuse({ v: 1, id: -1, op: 'get', key: 'k' }), [null, /id/]);
  t.match(refuse({ v: 2, id: 1, op: 'get', key: 'k' }), [1, /version/]);
  t.match(refuse({ v: 1, id: 1, op: 'scan', key: 'k' }), [1, /op/]);
  t.match(refuse({ v: 1, id: 1, op: 'get' }), [1, /key/]);
  t.match(refuse({ v: 1, id: 1, op: 'get', key: 7 }), [1, /key/]);
  t.match(refuse({ v: 1, id: 1, op: 'get', key: 'k', extra: 1 }), [1, /unknown field/]);
  t.match(refuse({ v: 1, id: 1, op: 'get', key: 'k', read: 'stale' }), [1, /read/]);
  t.match(refuse({ v: 1, id: 1, op: 'put', key: 'k', value: 'v', session: { clientId: 'c', seq: 0 } }), [1, /seq/]);
  t.match(refuse({ v: 1, id: 1, op: 'cas', key: 'k', value: 'v' }), [1, /expected/]);
  t.match(refuse('{"v":1,"id":1,"op":"get","key":"\\ud800"}'), [1, /surrogate/]);
  t.equal(refuse({ v: 1, id: 1, op: 'cas', key: 'k', expected: null, value: 'v' }), 'accepted');
});

t.test('responses are validated strictly too', async (t) => {
  t.equal(parseResponse('{"v":1,"id":1,"ok":true,"value":"x"}').ok, true);
  t.equal(parseResponse('{"v":1,"id":1,"ok":false,"error":{"code":"not_leader","message":"m","leader":"h:1"}}').ok, true);
  t.equal(parseResponse('{"v":1,"id":1,"ok":false,"error":{"code":"nope","message":"m"}}').ok, false);
  t.equal(parseResponse('{"v":1,"id":1,"ok":true,"value":3}').ok, false);
  t.equal(parseResponse('{"v":1,"id":1,"ok":true,"surprise":3}').ok, false);
  t.equal(parseResponse('{"v":1,"id":"1","ok":true}').ok, false);
});

t.test('a status names the leader by id (or null) as well as by client address', async (t) => {
  const status = (extra: string) =>
    `{"v":1,"id":1,"ok":true,"status":{"nodeId":2,"role":"follower","term":3,"leader":"h:1",${extra}"commitIndex":5,"appliedIndex":5}}`;
  t.equal(parseResponse(status('"leaderId":1,')).ok, true);
  t.equal(parseResponse(status('"leaderId":null,')).ok, true);
  t.match(parseResponse(status('')), { ok: false, message: /missing field "leaderId"/ });
  t.match(parseResponse(status('"leaderId":0,')), { ok: false, message: /status.leaderId/ });
  t.match(parseResponse(status('"leaderId":"1",')), { ok: false, message: /status.leaderId/ });
});
