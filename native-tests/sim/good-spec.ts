// A good-spec fixture (native-tests/fixtures/good-specs/) generated as an
// author would, with the compiled CLI, into build/<its file name>/, and its
// model: what the fixture tests then build and check against hand-written
// tables and the interpreter.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { basename, join } from "node:path";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { BUILD_DIR, ROOT } from "../support/cc.ts";

export interface GoodSpec {
	model: CheckerModel;
	/** where `mpcheckgen generate` wrote it */
	out: string;
	/** the checker's C for a target */
	checkerC: (target: "0.9" | "0.15") => string;
}

/** Generates `spec` (for 0.15 only unless `allTargets`) into a fresh build/<name>/ and loads its model. */
export async function generateGoodSpec(spec: string, opts: { allTargets?: boolean } = {}): Promise<GoodSpec> {
	const out = join(BUILD_DIR, basename(spec, ".ts"));
	rmSync(out, { recursive: true, force: true });
	const args = ["bin/mpcheckgen.js", "generate", "--spec", spec, ...(opts.allTargets ? [] : ["--target", "0.15"]), "--out", out];
	const gen = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
	if (gen.status !== 0) throw new Error(`mpcheckgen generate --spec ${spec} exited with ${gen.status}:\n${gen.stderr}${gen.stdout}`);
	const model = (await loadSpec(spec, ROOT)) as CheckerModel;
	return { model, out, checkerC: (target) => join(out, target, "libmultipath/checkers", `${model.name}.c`) };
}

/** The spec's 0.15 plugin over libsgsim in the clang build and in the gcc ASan build. */
export function clangAndAsanPlugins(g: GoodSpec): { clang: NativeSet; asan: NativeSet; plugins: Record<"clang" | "asan", string> } {
	const clang = buildNativeSet({ compiler: "clang" });
	const asan = buildNativeSet({ compiler: "gcc", sanitize: "address" });
	const c = g.checkerC("0.15");
	return { clang, asan, plugins: { clang: clang.simPluginFrom(g.model.name, c), asan: asan.simPluginFrom(g.model.name, c) } };
}
