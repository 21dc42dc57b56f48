/**
 * `deno task train <dataset> [options]`: the training CLI (see `--help`, and
 * README.md's Training section). The work is in src/cli/.
 */
import { main } from "./src/cli/run.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
