/** The most rows a heap profile's top table shows: `memory.topN` may not ask for more. */
export const MAX_TOP_ROWS = 100;
