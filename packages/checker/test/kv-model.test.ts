import t from 'tap';
import { absentId, fCas, fRead, fWrite, kvModel, kvStep, outInfo, outMismatch, outOk } from '../src/kv-model.js';

t.test('step follows the semantics of docs/history-format.md', async (t) => {
  t.equal(kvStep(3, { f: fRead, a: 3, b: 0 }, outOk), 3, 'a read of the current value');
  t.equal(kvStep(3, { f: fRead, a: 4, b: 0 }, outOk), undefined, 'a read of another value');
  t.equal(kvStep(3, { f: fWrite, a: 7, b: 0 }, outOk), 7);
  t.equal(kvStep(3, { f: fCas, a: 3, b: 8 }, outOk), 8, 'ok cas on the expected value');
  t.equal(kvStep(2, { f: fCas, a: 3, b: 8 }, outOk), undefined, 'ok cas on another value');
  t.equal(kvStep(2, { f: fCas, a: 3, b: 8 }, outMismatch), 2, 'a mismatch observes value != expected');
  t.equal(kvStep(3, { f: fCas, a: 3, b: 8 }, outMismatch), undefined);
  t.equal(kvStep(3, { f: fCas, a: 3, b: 8 }, outInfo), 8, 'an indeterminate cas applies when it matches');
  t.equal(kvStep(2, { f: fCas, a: 3, b: 8 }, outInfo), 2, 'and changes nothing otherwise');
  const m = kvModel(0);
  t.equal(m.init(), 0);
  t.ok(m.isReadOnly!({ f: fRead, a: 1, b: 0 }, outOk));
  t.ok(m.isReadOnly!({ f: fCas, a: 1, b: 2 }, outMismatch));
  t.notOk(m.isReadOnly!({ f: fCas, a: 1, b: 2 }, outOk));
});

t.test('a delete reaches the model as a write of absent: reads see absent, a cas expecting absent matches', async (t) => {
  const afterDelete = kvStep(3, { f: fWrite, a: absentId, b: 0 }, outOk);
  t.equal(afterDelete, absentId);
  t.equal(kvStep(absentId, { f: fRead, a: absentId, b: 0 }, outOk), absentId, 'a read of absent');
  t.equal(kvStep(absentId, { f: fRead, a: 3, b: 0 }, outOk), undefined, 'not the deleted value');
  t.equal(kvStep(absentId, { f: fCas, a: absentId, b: 8 }, outOk), 8, 'a cas expecting absent');
  t.equal(kvStep(3, { f: fCas, a: absentId, b: 8 }, outOk), undefined, 'but only when absent');
});
