import fc from 'fast-check';

/**
 * Runs a fast-check property as ONE tap assertion that names its seed whether it passes or fails,
 * so that any run can be replayed: FC_SEED=<seed> fixes the seed, KVAPP_PROPERTY_RUNS scales the
 * number of runs for a soak. On failure the message carries fast-check's report (seed, path and
 * the shrunk counterexample).
 */
export function checkProperty<Ts>(
  t: { ok(value: unknown, message: string): unknown },
  name: string,
  property: fc.IProperty<Ts>,
  numRuns = 200,
): void {
  const fixedSeed = process.env['FC_SEED'];
  const runsOverride = Number(process.env['KVAPP_PROPERTY_RUNS']);
  const params: fc.Parameters<Ts> = {
    numRuns: Number.isInteger(runsOverride) && runsOverride > 0 ? runsOverride : numRuns,
    ...(fixedSeed !== undefined ? { seed: Number(fixedSeed) } : {}),
  };
  const details = fc.check(property, params);
  const replay = `seed ${details.seed} (replay with FC_SEED=${details.seed})`;
  t.ok(
    !details.failed,
    details.failed ? `${name}: ${replay}\n${fc.defaultReportMessage(details)}` : `${name}: ${details.numRuns} runs, ${replay}`,
  );
}
