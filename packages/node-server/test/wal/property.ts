import fc from 'fast-check';

/**
 * Runs a fast-check property as ONE tap assertion. The seed comes from FC_SEED when set (to
 * replay a failure) or is drawn fresh; it is printed either way, and the failure message says
 * how to replay it.
 */
export async function checkProperty<Ts>(
  t: { pass(message: string): unknown; fail(message: string): unknown },
  name: string,
  prop: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  params: fc.Parameters<Ts> = {},
): Promise<void> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 0x7fffffff);
  const details = await fc.check(prop, { ...params, seed });
  if (details.failed) {
    t.fail(`${name}: seed ${seed} (replay with FC_SEED=${seed})\n${fc.defaultReportMessage(details)}`);
  } else {
    t.pass(`${name} (seed ${seed}, ${details.numRuns} runs)`);
  }
}
