import { pinPlantedBugSeed, provePlantedBug } from './support/planted.js';

provePlantedBug('answer-replaced-entry');
// A write answered from the entry that replaced it: reported done, never visible.
pinPlantedBugSeed('answer-replaced-entry', 12, /not linearizable/);
