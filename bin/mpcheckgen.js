#!/usr/bin/env node
// Entry point of the mpcheckgen CLI. It runs the compiled CLI in dist/generator/
// (built at install by `npm run build`, the `prepare` script). When a source
// changed since, it rebuilds first (under a second); when that is not
// possible (no esbuild, a read-only install) it says so and runs the
// TypeScript sources through tsx, which is slower. MPCHECKGEN_FROM_SOURCE=1
// runs the sources through tsx always.
import { build, isCurrent } from "./build.js";

async function fromSource() {
	const { register } = await import("tsx/esm/api");
	register();
	return (await import("../generator/cli.ts")).main;
}

let main;
if (process.env.MPCHECKGEN_FROM_SOURCE === "1") {
	main = await fromSource();
} else if (isCurrent()) {
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
		main = await fromSource();
	}
}
process.exitCode = await main(process.argv.slice(2));
