import { pinPlantedBugSeed, provePlantedBug } from './support/planted.js';

provePlantedBug('apply-uncommitted');
// An entry applied before it committed, then replaced by another leader's entry at its index.
pinPlantedBugSeed('apply-uncommitted', 1, /applied \S+ at index \d+, another node applied/);
