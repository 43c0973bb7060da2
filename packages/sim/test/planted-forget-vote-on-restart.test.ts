import { provePlantedBug } from './support/planted.js';

provePlantedBug('forget-vote-on-restart');
