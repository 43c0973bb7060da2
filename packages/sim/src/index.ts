export {
  Simulation,
  runSimulation,
  livenessLimits,
  type SimOptions,
  type SimResult,
  type SimFailure,
  type SimStats,
  type HistoryCheck,
  type HistoryVerdict,
} from './simulation.js';
export {
  faultArbitrary,
  scheduleArbitrary,
  faultKinds,
  profileFromSeed,
  scheduleFromSeed,
  checkSchedule,
  scheduleLimits,
  type Fault,
  type FaultKind,
  type NodeTarget,
  type Profile,
} from './schedule.js';
export { InvariantViolation, type InvariantCode } from './invariants.js';
export { plantedBugs, plantedBugFailures, type PlantedBug } from './planted-bugs.js';
export { expectedFailureOf, failureMatches, describeExpectedFailure, type ExpectedFailure } from './expected-failure.js';
export { shrinkSchedule, shrinkRunsMax, type ShrinkOptions, type ShrinkResult } from './shrink.js';
export { replayCommand, replayTest, describeFailure } from './report.js';
export { checkLinearizable, historyCheckStepsMax } from './history-check.js';
