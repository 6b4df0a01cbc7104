/** The name users know from the original action; the binary answers to it as `dnb stop`. */
export const STOP_ALIAS = "stop-nix-builders";
