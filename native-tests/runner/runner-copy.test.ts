// check_runner()'s copy (runner-copy.c): only in DONE, and never more than
// the runner holds when the caller asks for more (upstream over-reads). The
// generated runner, plain and under ASan; the mutation run found no test of
// the size cap.
//
// Run: npx vitest run native-tests/runner/runner-copy.test.ts
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GEN } from "../support/build.ts";
import { compile, type Sanitizer } from "../support/cc.ts";
import { ASAN_STACK_SIZE } from "./race.ts";

describe.each([
	{ label: "clang", sanitize: "none" as Sanitizer },
	{ label: "clang ASan", sanitize: "address" as Sanitizer },
])("runner-copy, $label", ({ sanitize }) => {
	it("copies only in DONE, and only the runner's size", () => {
		const exe = compile({
			compiler: "clang",
			sanitize,
			kind: "executable",
			name: "runner-copy",
			sources: ["native-tests/runner/runner-copy.c", GEN.runner, "native-tests/support/dlog.c"],
			includeDirs: [GEN.mpathutil, GEN.abi],
			defines: sanitize === "none" ? {} : { RUNNER_STACK_SIZE: ASAN_STACK_SIZE },
			ldflags: ["-pthread"],
		}).output;
		const r = spawnSync(exe, [], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1" } });
		const lines = r.stdout.trim().split("\n");
		expect(lines.filter((l) => !l.startsWith("ok: ")).concat(r.stderr ? [r.stderr.slice(0, 2000)] : [])).toEqual([]);
		expect(lines.length).toBe(6);
		expect(r.status, r.stderr).toBe(0);
	});
});
