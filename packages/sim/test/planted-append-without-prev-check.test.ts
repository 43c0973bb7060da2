import { provePlantedBug } from './support/planted.js';

provePlantedBug('append-without-prev-check');
