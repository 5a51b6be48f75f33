#!/usr/bin/env node
// Entry point of the mpcheckgen CLI. It runs the compiled CLI in dist/generator/
// (built at install by `npm run build`, the `prepare` script). When a source
// changed since, it rebuilds first (about 0.2 s); when that is not possible
// (no esbuild, a read-only install) it says so and runs the TypeScript
// sources through tsx, which is slower.
import { build, isCurrent } from "./build.js";

let main;
if (isCurrent()) {
	({ main } = await import("../dist/generator/cli.js"));
} else {
	try {
		await build();
		({ main } = await import("../dist/generator/cli.js"));
	} catch (e) {
		process.stderr.write(
			`mpcheckgen: dist/ is missing or older than the sources and cannot be rebuilt ` +
				`(${e instanceof Error ? e.message.split("\n")[0] : e}); running the sources through tsx (slower)\n`,
		);
		const { register } = await import("tsx/esm/api");
		register();
		({ main } = await import("../generator/cli.ts"));
	}
}
process.exitCode = await main(process.argv.slice(2));
