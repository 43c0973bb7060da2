import { provePlantedBug } from './support/planted.js';

provePlantedBug('vote-without-log-check');
