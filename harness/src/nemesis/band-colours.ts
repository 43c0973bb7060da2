/**
 * Band fills of the report, one per family of nemeses, so that a family looks the same in every
 * chart of the page. Translucent: the operations drawn behind a band stay readable.
 */
export const bandColours = {
  partition: 'rgba(229,57,53,0.13)',
  process: 'rgba(30,136,229,0.13)',
  freeze: 'rgba(142,36,170,0.13)',
  network: 'rgba(251,140,0,0.16)',
  storage: 'rgba(0,137,123,0.14)',
  clock: 'rgba(109,76,65,0.14)',
  membership: 'rgba(67,160,71,0.14)',
} as const;

/** Every band fill, for names that no registered nemesis claims (a colour from their hash). */
export const bandPalette: readonly string[] = Object.values(bandColours);
