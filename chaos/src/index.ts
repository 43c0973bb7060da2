export { profiles, isProfileName, type Profile, type ProfileName } from './scenarios.js';
export { main, planRuns, listScenarios, exitPassed, exitFailed, exitError, type MainIo, type Runner, type PlannedRun } from './main.js';
export { parseArgs, UsageError, type ChaosArgs } from './args.js';
export { resultsTable, faultAvailability, outcome } from './table.js';
export { runTotals, type TotalsIo } from './totals-command.js';
export { readStoreRuns, StoreError, type StoredRun, type StoredResults } from './store-runs.js';
export { tallyRun, totals, type RunTally, type Totals, type KindKills, type FamilyCount } from './totals.js';
export { formatTotals } from './totals-text.js';
export { rssLine, type RssRange } from './rss-line.js';
