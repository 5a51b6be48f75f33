#!/usr/bin/env node
// Entry point of the mpcheckgen CLI: runs generator/cli.ts through tsx,
// so the TypeScript sources (and the specs they import) need no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../generator/cli.ts");
process.exitCode = await main(process.argv.slice(2));
