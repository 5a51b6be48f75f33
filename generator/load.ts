// Loads spec files: evaluates each (it is TypeScript: imported through tsx
// or vitest) and indexes its source with ts-morph, then builds the validated
// model. Every failure becomes a located SpecError.
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SpecError } from "./model/diagnostics.ts";
import { buildCheckerModel } from "./model/build-checker.ts";
import { buildRunnerModel } from "./model/build-runner.ts";
import { checkCNames } from "./emit/index.ts";
import { indexSpecSource } from "./model/source-index.ts";
import type { SpecModel } from "./model/types.ts";
import type { CheckerSpec } from "./spec/checker.ts";
import type { RunnerSpec } from "./spec/runner.ts";

/** The path a diagnostic names: relative to the working directory when inside it. */
export function displayPath(absPath: string, cwd = process.cwd()): string {
	const rel = relative(cwd, absPath);
	return rel.startsWith("..") ? absPath : rel;
}

function fail(file: string, message: string, line = 1, column = 1): never {
	throw new SpecError([{ loc: { file, line, column }, severity: "error", message }]);
}

/** Loads and validates one spec file. */
export async function loadSpec(path: string, cwd = process.cwd()): Promise<SpecModel> {
	const absPath = resolve(cwd, path);
	const file = displayPath(absPath, cwd);
	if (!existsSync(absPath)) fail(file, "no such file");
	const index = indexSpecSource(absPath, file);
	const syntax = index.syntaxErrors[0];
	if (syntax) fail(file, syntax.message, syntax.line, syntax.column);
	let mod: { default?: unknown };
	try {
		mod = (await import(pathToFileURL(absPath).href)) as { default?: unknown };
	} catch (e) {
		fail(file, `cannot evaluate the spec: ${e instanceof Error ? e.message : String(e)}`);
	}
	const value = mod.default as { kind?: unknown } | undefined;
	if (typeof value !== "object" || value === null || (value.kind !== "checker" && value.kind !== "runner")) {
		fail(file, "the default export must be defineChecker({…}) or defineRunner({…})", index.root.line, index.root.column);
	}
	if (value.kind === "runner") return buildRunnerModel(value as RunnerSpec, index);
	const model = buildCheckerModel(value as CheckerSpec, index);
	// the names its C would have: a clash is a spec error like any other
	for (const t of model.targets) checkCNames([model], t);
	return model;
}

/** Loads several specs, collecting the diagnostics of all of them. */
export async function loadSpecs(paths: readonly string[], cwd = process.cwd()): Promise<SpecModel[]> {
	const models: SpecModel[] = [];
	const errors: SpecError[] = [];
	for (const p of paths) {
		try {
			models.push(await loadSpec(p, cwd));
		} catch (e) {
			if (e instanceof SpecError) errors.push(e);
			else throw e;
		}
	}
	if (errors.length > 0) throw new SpecError(errors.flatMap((e) => e.diagnostics));
	return models;
}
