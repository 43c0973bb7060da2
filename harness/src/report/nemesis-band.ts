import { bandPalette } from '../nemesis/band-colours.js';
import type { NemesisBand } from '../nemesis/module.js';
import { isNemesisKind, nemeses } from '../nemesis/registry.js';

/**
 * How the report draws the periods logged under `nemesis`: as its registered module says, else
 * (a name no module claims, e.g. from an older run) the name itself on a colour of its hash, so
 * that the same name looks the same in every chart of the page.
 */
export function nemesisBand(nemesis: string): NemesisBand {
  if (isNemesisKind(nemesis)) return nemeses[nemesis].band;
  let h = 0;
  for (const c of nemesis) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return { label: nemesis, colour: bandPalette[h % bandPalette.length]! };
}

/** A stable colour per nemesis. */
export function bandColor(nemesis: string): string {
  return nemesisBand(nemesis).colour;
}
