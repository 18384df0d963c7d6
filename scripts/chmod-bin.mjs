// npm links `bin` files as they are: make the CLI executable after tsc wrote it.
import { chmodSync, existsSync } from "node:fs";
if (existsSync("dist/cli.js")) chmodSync("dist/cli.js", 0o755);
