// What the client port's JSON costs against msgpackr, per request: a put of a 16-byte key and a
// 128-byte value with its session, and its answer, each encoded by one side and decoded (and, for
// JSON, validated) by the other, as the server and KvClient do. The cases are interleaved batch by
// batch so that a slow moment of the machine hits both; medians of --runs.
//
//   node packages/node-server/bench/codec-bench.mjs [--runs 5]
import { performance } from 'node:perf_hooks';
import { Packr } from 'msgpackr';
import { encodeRequest, encodeResponse, parseRequest } from '@kvapp/client';
import { median } from './aggregate.mjs';
import { smallBenchFlags } from './options.mjs';

const BATCH = 20_000;

const request = {
  v: 1,
  id: 123_456,
  op: 'put',
  key: 'k000000000001234',
  value: 'v'.repeat(128),
  session: { clientId: 'c-6f1d2a9b3c4e5f60', seq: 98_765 },
};
const response = { v: 1, id: 123_456, ok: true, prev: 'v'.repeat(128) };

const packr = new Packr({ useRecords: false });

const CASES = {
  json: () => {
    const parsed = parseRequest(encodeRequest(request));
    if (!parsed.ok) throw new Error('the request did not parse');
    return JSON.parse(encodeResponse(response));
  },
  msgpackr: () => {
    packr.unpack(packr.pack(request));
    return packr.unpack(packr.pack(response));
  },
};

function main() {
  const values = smallBenchFlags('codec-bench', { runs: { type: 'string', default: '5' } }, (v) =>
    Number.isInteger(Number(v.runs)) && Number(v.runs) >= 1 && Number(v.runs) <= 50 ? null : '--runs 1..50',
  );
  const runs = Number(values.runs);
  const perRun = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
  for (let run = 0; run < runs + 1; run++) {
    for (const [name, fn] of Object.entries(CASES)) {
      const s = performance.now();
      for (let i = 0; i < BATCH; i++) fn();
      const us = ((performance.now() - s) * 1000) / BATCH;
      if (run > 0) perRun[name].push(us); // run 0 warms the JIT
    }
  }
  const json = median(perRun.json);
  console.log('| codec | µs per put round (request + answer, both sides) | × json | bytes request / answer |');
  console.log('|---|---|---|---|');
  for (const name of Object.keys(CASES)) {
    const us = median(perRun[name]);
    const sizes =
      name === 'json'
        ? [encodeRequest(request).length, encodeResponse(response).length]
        : [packr.pack(request).length, packr.pack(response).length];
    console.log(`| ${name} | ${us.toFixed(2)} | ${(us / json).toFixed(2)} | ${sizes[0]} / ${sizes[1]} |`);
  }
}

main();
