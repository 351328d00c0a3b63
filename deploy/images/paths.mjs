import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root: images are built from it. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
