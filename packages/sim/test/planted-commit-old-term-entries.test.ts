import { provePlantedBug } from './support/planted.js';

provePlantedBug('commit-old-term-entries');
