export { profiles, isProfileName, type Profile, type ProfileName } from './scenarios.js';
export { main, planRuns, listScenarios, exitPassed, exitFailed, exitError, type MainIo, type Runner, type PlannedRun } from './main.js';
export { parseArgs, UsageError, type ChaosArgs } from './args.js';
export { resultsTable, faultAvailability, outcome } from './table.js';
