// The TypeScript type check of spec files, as an editor shows it: a goto to
// a state that does not exist, an unknown message or a path state the target
// lacks are type errors. Reported in the same located format as model errors.
//
// The result of each file is kept in a cache (CACHE_ROOT/typecheck/), with
// the hash of every source file its program read (the spec, the spec
// language, anything else it imports); it is used only while all of them
// are unchanged, so TypeScript loads only when a spec or what it imports
// changed. The cache only makes runs faster.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { Project, ts } from "ts-morph";
import { displayPath } from "./load.ts";
import type { Diagnostic } from "./model/diagnostics.ts";
import { CACHE_ROOT, SPEC_LANGUAGE_ENTRY } from "./paths.ts";

interface CachedCheck {
	/** absolute path → sha256 of the text, for every non-library source file of the program */
	inputs: Record<string, string>;
	diagnostics: { line: number; column: number; message: string }[];
}

const hashText = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");
let compilerId: string | undefined;

function cacheFile(absPath: string): string {
	compilerId ??= (createRequire(import.meta.url)("ts-morph/package.json") as { version: string }).version;
	const key = hashText(`${compilerId}\0${SPEC_LANGUAGE_ENTRY}\0${absPath}`).slice(0, 40);
	return join(CACHE_ROOT, "typecheck", `${key}.json`);
}

function lookup(absPath: string): CachedCheck | undefined {
	try {
		const c = JSON.parse(readFileSync(cacheFile(absPath), "utf8")) as CachedCheck;
		for (const [f, h] of Object.entries(c.inputs)) if (hashText(readFileSync(f)) !== h) return undefined;
		return c;
	} catch {
		return undefined;
	}
}

function store(absPath: string, c: CachedCheck): void {
	try {
		const file = cacheFile(absPath);
		mkdirSync(dirname(file), { recursive: true });
		const tmp = `${file}.${process.pid}`;
		writeFileSync(tmp, JSON.stringify(c));
		renameSync(tmp, file);
	} catch {
		// a read-only install: no cache
	}
}

export function typecheckSpecs(files: string[], cwd = process.cwd()): Diagnostic[] {
	const abs = files.map((f) => resolve(cwd, f));
	const hits = abs.map(lookup);
	const misses = abs.filter((_, i) => hits[i] === undefined);
	const fresh = misses.length > 0 ? check(misses) : new Map<string, CachedCheck>();
	return abs.flatMap((a, i) =>
		(hits[i] ?? fresh.get(a)!).diagnostics.map((d) => ({
			loc: { file: displayPath(a, cwd), line: d.line, column: d.column },
			severity: "error" as const,
			message: d.message,
		})),
	);
}

/** Type-checks the files in one program; each file's diagnostics, cached. */
function check(files: string[]): Map<string, CachedCheck> {
	const project = new Project({
		compilerOptions: {
			target: ts.ScriptTarget.ES2022,
			module: ts.ModuleKind.NodeNext,
			moduleResolution: ts.ModuleResolutionKind.NodeNext,
			strict: true,
			noEmit: true,
			allowImportingTsExtensions: true,
			skipLibCheck: true,
			types: [],
			// what the repository's tsconfig has: no DOM (lib.dom.d.ts alone
			// is most of the parsing a type check of one spec does)
			lib: ["lib.es2022.d.ts"],
			// a spec anywhere imports the spec language of this package
			paths: { "mpcheckgen/spec": [SPEC_LANGUAGE_ENTRY] },
		},
		skipAddingFilesFromTsConfig: true,
	});
	const sources = files.map((f) => project.addSourceFileAtPath(f));
	project.resolveSourceFileDependencies();
	const inputs: Record<string, string> = {};
	for (const sf of project.getProgram().compilerObject.getSourceFiles()) {
		if (project.getProgram().compilerObject.isSourceFileDefaultLibrary(sf)) continue;
		try {
			inputs[resolve(sf.fileName)] = hashText(readFileSync(sf.fileName));
		} catch {
			inputs[resolve(sf.fileName)] = "unreadable";
		}
	}
	const out = new Map<string, CachedCheck>();
	for (const [i, sf] of sources.entries()) {
		const diagnostics: CachedCheck["diagnostics"] = [];
		for (const d of project.getProgram().getSemanticDiagnostics(sf).concat(project.getProgram().getSyntacticDiagnostics(sf))) {
			const start = d.getStart() ?? 0;
			const { line, column } = sf.getLineAndColumnAtPos(start);
			// the compiler's own message chain: ts-morph's getMessageText()
			// wraps a chain in an object flattenDiagnosticMessageText cannot read
			// (one line: the nested messages follow the outer one)
			const text = ts
				.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n")
				.split("\n")
				.map((l) => l.trim())
				.filter(Boolean)
				.join(" ");
			diagnostics.push({ line, column, message: `TS${d.getCode()}: ${text}` });
		}
		const c = { inputs, diagnostics };
		store(files[i], c);
		out.set(files[i], c);
	}
	return out;
}
