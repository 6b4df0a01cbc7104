/**
 * Removes every farm whose owner process is gone, and the mount points farms made once none is
 * left. The reaper runs it when a test process dies; `.ci/run` runs it after the suite.
 */
import { sweepStaleRuns } from "./cleanup.ts";

const swept = await sweepStaleRuns();
// A dead owner's last commands (an `ip netns add`, an unshare) may still be finishing: look again.
await new Promise((resolve) => setTimeout(resolve, 1000));
swept.push(...await sweepStaleRuns());
if (swept.length > 0) console.log(`swept: ${[...new Set(swept)].join(" ")}`);
