import t from 'tap';
import { duplicateKeys } from './log-lines.js';

t.test('duplicateKeys finds a repeated key in the raw text, at any depth, and nothing else', async (t) => {
  t.same(duplicateKeys('{"node":1,"msg":"x","node":1}'), ['node']);
  t.same(duplicateKeys('{"a":{"b":1,"b":2},"c":[{"d":1},{"d":2}]}'), ['b'], 'sibling objects in an array are separate');
  t.same(duplicateKeys('{"msg":"node: \\"node\\":","node":1}'), [], 'key-like text inside a string value is not a key');
  t.same(duplicateKeys('{"a":1,"b":{"a":2}}'), [], 'the same key in a nested object is not a duplicate');
});
