import { pinPlantedBugSeed, provePlantedBug } from './support/planted.js';

provePlantedBug('ack-before-persist');
// The acking follower's disk lacks the entry when the leader commits it: a crash there would
// lose it, and a node without it is as up to date as a quorum.
pinPlantedBugSeed('ack-before-persist', 6, /committed \S+, but node \d+ lacks it/);
