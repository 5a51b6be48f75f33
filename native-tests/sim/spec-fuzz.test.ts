// Fuzzed specs: fast-check draws random valid checker specs (spec-arb.ts:
// states, commands, decoders, rules over every fact kind, retries with
// budgets, context stores). Each goes through the generator as a spec file
// would (its source indexed for locations, the model rules, the C-name
// checks, the C of every target it lists, its diagram), its C compiles with
// -Werror under clang and gcc in a few batched compiler invocations, and
// the 0.15 plugin (gcc, ASan, simulated SG_IO) agrees with the interpreter
// on every rule's witness cases and on random answers. Then hundreds of
// random mutations of those specs go through the model: each is accepted
// (and its C and diagram generated; a few are compiled with the others) or
// rejected with errors located in its file. A generator crash (anything but
// a SpecError, or a SpecCrash) fails the test with the spec written out.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { diagramDot, diagramFile, initDiagrams } from "../../generator/emit/diagram.ts";
import { initFormatter } from "../../generator/emit/format.ts";
import { emit } from "../../generator/emit/index.ts";
import { loadSpec, modelBuilder, SpecCrash } from "../../generator/load.ts";
import { SpecError } from "../../generator/model/diagnostics.ts";
import { indexSpecSource } from "../../generator/model/source-index.ts";
import type { CheckerModel, SpecModel } from "../../generator/model/types.ts";
import { checkDiagram } from "../../generator/tests/diagram-check.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { BUILD_DIR, compile, compileObjects, ROOT, type Compiler, type Sanitizer } from "../support/cc.ts";
import { disagreements, runRandom, witnessCases } from "./agreement.ts";
import { runSimCases } from "./sim.ts";
import { mutate, mutationArb, repair, specArb, specSource } from "./spec-arb.ts";

const SEED = Number(process.env.MPCHECKGEN_SEED ?? 20261125);
/** Valid random specs compiled and run (MPCHECKGEN_FUZZ_SPECS for a longer hunt). */
const SPECS = Number(process.env.MPCHECKGEN_FUZZ_SPECS ?? 12);
/** Mutations through the model (MPCHECKGEN_FUZZ_MUTATIONS). */
const MUTATIONS = Number(process.env.MPCHECKGEN_FUZZ_MUTATIONS ?? 400);
/** Valid mutants compiled with the specs. */
const MUTANTS_COMPILED = 4;
const DIR = join(BUILD_DIR, "spec-fuzz");
const ENV = { ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let build: (value: unknown, index: ReturnType<typeof indexSpecSource>) => SpecModel;

interface Built {
	id: string;
	file: string;
	text: string;
	spec: Json;
	model?: CheckerModel;
	error?: SpecError;
}

/** A spec value through the generator's front end, as `loadSpec` takes a file: the source indexed, the model built. */
function buildSpec(id: string, spec: Json): Built {
	const file = relative(ROOT, join(DIR, "specs", `${id}.ts`));
	const text = specSource(spec);
	const index = indexSpecSource(join(ROOT, file), file, text);
	try {
		const m = build(spec, index);
		if (m.kind !== "checker") throw new Error(`a ${m.kind} model from a checker spec`);
		return { id, file, text, spec, model: m };
	} catch (e) {
		if (e instanceof SpecError && !(e instanceof SpecCrash)) return { id, file, text, spec, error: e };
		return crashed(id, file, text, e);
	}
}

function crashed(id: string, file: string, text: string, e: unknown): never {
	mkdirSync(join(DIR, "specs"), { recursive: true });
	writeFileSync(join(ROOT, file), text);
	throw new Error(`generator crash on ${file} (${id}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

/** The C of every target the model lists (path → text), and its diagram's DOT: any exception is a crash. */
function generateAll(b: Built): Map<string, string> {
	const out = new Map<string, string>();
	try {
		for (const t of b.model!.targets) for (const [p, text] of emit([b.model!], t)) out.set(p, text);
		diagramDot(b.model!);
	} catch (e) {
		crashed(b.id, b.file, b.text, e);
	}
	return out;
}

/** Random valid specs: drawn, repaired as the model's messages ask, first SPECS with distinct names. */
function validSpecs(): { specs: Built[]; drawn: number; rejected: Built[] } {
	const drawn = fc.sample(specArb, { numRuns: SPECS * 4, seed: SEED });
	const specs: Built[] = [];
	const rejected: Built[] = [];
	const names = new Set<string>();
	for (const [i, raw] of drawn.entries()) {
		if (specs.length === SPECS) return { specs, drawn: i, rejected };
		let b = buildSpec(`spec${i}`, raw);
		for (let round = 0; round < 6 && b.error && repair(b.spec, b.error.diagnostics.map((d) => d.message)); round++) b = buildSpec(`spec${i}`, b.spec);
		if (b.error) rejected.push(b);
		else if (!names.has(b.model!.name)) {
			names.add(b.model!.name);
			specs.push(b);
		}
	}
	return { specs, drawn: drawn.length, rejected };
}

interface Compiled {
	what: string;
	compiler: Compiler;
	sanitize?: Sanitizer;
	target: string;
	status: number | null;
	output: string;
	ms: number;
	files: number;
}

/** Writes each model's checker C of a target (and the target's SG_IO helper) to DIR/<target>/, returning the sources. */
function writeSources(target: string, items: { id: string; files: Map<string, string> }[]): string[] {
	const dir = join(DIR, "c", target);
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const sources: string[] = [];
	let helper: string | undefined;
	for (const { id, files } of items) {
		for (const [p, text] of files) {
			if (!p.startsWith(`${target}/`)) continue;
			if (p.endsWith("/sg_answer.c") || p.endsWith("/sg_answer.h")) {
				// one SG_IO helper per target: every checker's is the same
				const f = join(dir, p.split("/").pop()!);
				if (p.endsWith(".c")) {
					if (helper !== undefined) expect(text, `${id}: sg_answer.c`).toBe(helper);
					helper = text;
				}
				writeFileSync(f, text);
			} else if (/\/checkers\/\w+\.c$/.test(p)) {
				const f = join(dir, `${id}.c`);
				writeFileSync(f, text);
				sources.push(f);
			}
		}
	}
	if (helper !== undefined) sources.push(join(dir, "sg_answer.c"));
	return sources;
}

function includeDirs(target: string): string[] {
	const g = join(ROOT, "generated", target);
	return [join(DIR, "c", target), join(g, "target-abi"), join(g, "libmpathutil"), join(g, "libmultipath")];
}

let specs: Built[];
let rejectedSpecs: Built[];
let drawnSpecs: number;
let mutants: { valid: Built[]; rejected: number; messages: number; done: string[][] };
let set: NativeSet;
let compiled: Compiled[];

beforeAll(async () => {
	await Promise.all([initFormatter(), initDiagrams()]);
	build = await modelBuilder();
	const t0 = performance.now();
	({ specs, drawn: drawnSpecs, rejected: rejectedSpecs } = validSpecs());
	const tSpecs = performance.now() - t0;
	// mutations of the valid specs, through the model
	const draws = fc.sample(fc.tuple(fc.nat(), mutationArb), { numRuns: MUTATIONS, seed: SEED + 1 });
	mutants = { valid: [], rejected: 0, messages: 0, done: [] };
	for (const [i, [pick, mu]] of draws.entries()) {
		const { spec, done } = mutate(specs[pick % specs.length].spec, mu);
		const b = buildSpec(`mutant${i}`, spec);
		if (b.error) {
			mutants.rejected++;
			mutants.messages += b.error.diagnostics.length;
			const lines = b.text.split("\n").length;
			for (const d of b.error.diagnostics) {
				// located: in the spec's own file, on one of its lines
				if (d.loc.file !== b.file || d.loc.line < 1 || d.loc.line > lines || d.loc.column < 1) {
					crashed(b.id, b.file, b.text, new Error(`unlocated diagnostic after ${done.join("; ")}: ${JSON.stringify(d)}`));
				}
			}
		} else {
			mutants.valid.push(b);
			mutants.done.push(done);
		}
	}
	const tMutants = performance.now() - t0 - tSpecs;
	console.log(
		`spec fuzz: ${specs.length} valid specs from ${drawnSpecs} drawn (${rejectedSpecs.length} rejected after repair) in ${Math.round(tSpecs)} ms; ` +
			`${MUTATIONS} mutations: ${mutants.valid.length} still valid, ${mutants.rejected} rejected with ${mutants.messages} located errors, 0 crashes in ${Math.round(tMutants)} ms (seed ${SEED})`,
	);
	// the C of the specs and of a few valid mutants, batched: per target,
	// one clang and one gcc invocation (gcc with ASan for 0.15, the build
	// the agreement runs), two at a time
	const t1 = performance.now();
	const chosen = [...specs, ...mutants.valid.slice(0, MUTANTS_COMPILED)];
	const generated = chosen.map((b) => ({ id: b.id, files: generateAll(b) }));
	for (const b of mutants.valid.slice(MUTANTS_COMPILED)) generateAll(b);
	const tEmit = performance.now() - t1;
	const jobs: Omit<Compiled, "status" | "output" | "ms" | "files">[] = [
		{ what: "0.15 clang", compiler: "clang", target: "0.15" },
		{ what: "0.15 gcc ASan", compiler: "gcc", sanitize: "address", target: "0.15" },
		{ what: "0.9 clang", compiler: "clang", target: "0.9" },
		{ what: "0.9 gcc", compiler: "gcc", target: "0.9" },
	];
	const sources = new Map(["0.15", "0.9"].map((t) => [t, writeSources(t, generated)]));
	compiled = [];
	for (let i = 0; i < jobs.length; i += 2) {
		const pair = jobs.slice(i, i + 2).map(async (j) => {
			const src = sources.get(j.target)!;
			const outDir = join(DIR, "obj", j.what.replace(/ /g, "-"));
			rmSync(outDir, { recursive: true, force: true });
			const r = await compileObjects({ compiler: j.compiler, sanitize: j.sanitize, sources: src, includeDirs: includeDirs(j.target), outDir });
			return { ...j, ...r, files: src.length };
		});
		compiled.push(...(await Promise.all(pair)));
	}
	console.log(
		`spec fuzz: C of ${generated.length} checkers generated in ${Math.round(tEmit)} ms (and of ${mutants.valid.length - Math.min(mutants.valid.length, MUTANTS_COMPILED)} more mutants); ` +
			compiled.map((c) => `${c.what}: ${c.files} files in one invocation, ${(c.ms / 1000).toFixed(1)} s`).join("; "),
	);
	set = buildNativeSet({ compiler: "gcc", sanitize: "address" });
});

describe("random valid specs", () => {
	it(`${SPECS} specs drawn cover the language: decision states, decoders, context bytes and lengths, retries, stores`, () => {
		expect(specs).toHaveLength(SPECS);
		const ms = specs.map((b) => b.model!);
		const states = ms.flatMap((m) => m.states);
		const rules = states.flatMap((s) => s.rules);
		const kinds = new Set(rules.flatMap((r) => r.conditions.filter((c) => !c.implied).map((c) => c.fact.kind)));
		const outcomes = new Set(rules.map((r) => (r.outcome.kind === "retry" ? `retry/${r.outcome.exhausted === null ? "fallthrough" : r.outcome.exhausted.kind}` : r.outcome.kind)));
		console.log(
			`spec fuzz: ${states.length} states (${states.filter((s) => s.kind === "decision").length} decisions, ${states.filter((s) => s.kind === "command" && s.decoder).length} decoding), ` +
				`${rules.length} rules; facts: ${[...kinds].sort().join(", ")}; outcomes: ${[...outcomes].sort().join(", ")}`,
		);
		for (const k of ["errno", "status", "sgInfo", "hostStatus", "driverStatus", "senseKey", "senseCode", "context"]) expect(kinds, k).toContain(k);
		for (const o of ["report", "goto", "retry/fallthrough", "retry/report"]) expect(outcomes, o).toContain(o);
		expect(states.some((s) => s.kind === "decision")).toBe(true);
		expect(ms.some((m) => m.context.length > 0 && m.budgets.length > 0)).toBe(true);
		// a bytes field among the numeric ones: the C struct's layout with an array (the agreement compares its bytes)
		expect(ms.some((m) => m.context.some((f) => f.type === "bytes") && m.context.some((f) => f.type === "u32" || f.type === "u16"))).toBe(true);
	});

	it("a spec's text is the spec: loaded as a file (esbuild, evaluated), it gives the same C", async () => {
		for (const b of specs.slice(0, 2)) {
			mkdirSync(join(DIR, "specs"), { recursive: true });
			writeFileSync(join(ROOT, b.file), b.text);
			const loaded = await loadSpec(b.file, ROOT);
			for (const t of b.model!.targets) expect([...emit([loaded], t)]).toEqual([...emit([b.model!], t)]);
		}
	});

	it("the C of each compiles with -Werror under clang and gcc, for every target it lists", () => {
		for (const c of compiled) {
			expect(`${c.what}:\n${c.output}`, c.what).toBe(`${c.what}:\n`);
			expect(c.status, c.what).toBe(0);
		}
		const targets = specs.flatMap((b) => b.model!.targets);
		expect(targets).toContain("0.9");
		expect(targets).toContain("0.15");
	});

	it("each 0.15 plugin (gcc, ASan) agrees with the interpreter on every rule's witnesses and on random answers", () => {
		const obj = (id: string) => join(DIR, "obj", "0.15-gcc-ASan", `${id}.o`);
		const lines: string[] = [];
		let total = 0;
		let paths = 0;
		let linkMs = 0;
		for (const b of [...specs, ...mutants.valid.slice(0, MUTANTS_COMPILED)]) {
			const m = b.model!;
			if (!m.targets.includes("0.15")) continue;
			const tl = performance.now();
			const plugin = compile({
				compiler: "gcc",
				sanitize: "address",
				kind: "shared",
				name: `libcheck${m.name}`,
				sources: [obj(b.id), obj("sg_answer")],
				ldflags: [`-L${set.libDir}`, "-lmpathutil", `-Wl,-rpath,${set.libDir}`, "-Wl,--wrap=ioctl", `-L${join(set.sgsim, "..")}`, "-lsgsim", `-Wl,-rpath,${join(set.sgsim, "..")}`],
			}).output;
			linkMs += performance.now() - tl;
			const mine: NativeSet = { ...set, simPlugin: () => plugin };
			const t0 = performance.now();
			try {
				// the witness cases of every rule the witness search reaches
				// (a budget spent only by another rule's retries may be out of
				// its reach: counted, not required), then random answers
				// (fewer attempts per rule than for the embedded specs: a
				// random spec's unreachable paths would spend them all)
				const { cases, missing } = witnessCases(m, { attempts: 60 });
				const bad = disagreements(m, cases, runSimCases(mine, m.name, cases.map((c) => c.case), { env: ENV }));
				expect(bad.slice(0, 3), `${bad.length} of ${cases.length} witness cases disagree`).toEqual([]);
				const r = runRandom(mine, m, { checks: 120, paths: 4, sequence: 5, seed: SEED, env: ENV });
				total += cases.length + r.cases;
				paths += missing.length;
				const rules = m.states.reduce((k, s) => k + s.rules.length, 0);
				lines.push(
					`${b.id} (${m.name}): ${m.states.length} states, ${rules} rules, ${cases.length} witness + ${r.cases} random checks agree (${Math.round(performance.now() - t0)} ms)` +
						(missing.length > 0 ? `; rule paths no witness reached: ${missing.join(", ")}` : ""),
				);
			} catch (e) {
				mkdirSync(join(DIR, "specs"), { recursive: true });
				writeFileSync(join(ROOT, b.file), b.text);
				throw new Error(`${b.file}: ${e instanceof Error ? e.message : String(e)}`);
			}
		}
		console.log(
			`spec fuzz: ${total} checks agree (${paths} rule paths out of the witnesses' reach); plugins linked in ${Math.round(linkMs)} ms\n  ${lines.join("\n  ")}`,
		);
		expect(lines.length).toBeGreaterThanOrEqual(SPECS / 2);
	});

	it("each one's diagram parses, renders and holds every state, rule and retry", () => {
		for (const b of specs) checkDiagram(b.model!, diagramFile(b.model!));
	});
});

describe(`${MUTATIONS} mutations of those specs`, () => {
	it("each is still valid (its C and diagram generated) or rejected with errors located in its file; none crashes", () => {
		// (the checks ran in beforeAll: a crash or an unlocated error throws there)
		expect(mutants.valid.length + mutants.rejected).toBe(MUTATIONS);
		expect(mutants.rejected).toBeGreaterThan(MUTATIONS / 2);
		expect(mutants.valid.length).toBeGreaterThan(0);
	});
});
