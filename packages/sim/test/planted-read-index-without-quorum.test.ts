import { provePlantedBug } from './support/planted.js';

provePlantedBug('read-index-without-quorum');
