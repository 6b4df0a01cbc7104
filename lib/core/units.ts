/** Sizes as dnb prints them: the one place bytes become GiB. */

/** Bytes in a gibibyte. */
export const GIB = 2 ** 30;

/** `68.2`: bytes in GiB to one decimal; the caller writes the unit (`68.2 GiB`, `3.1 of 15.6 GiB`). */
export function gib(bytes: number): string {
  return (bytes / GIB).toFixed(1);
}

/** `68.2 GiB free`, or that it is not known. */
export function freeText(bytes: number | undefined): string {
  return bytes === undefined ? "free space unknown" : `${gib(bytes)} GiB free`;
}
