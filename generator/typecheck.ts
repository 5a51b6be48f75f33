// The TypeScript type check of spec files, as an editor shows it: a goto to
// a state that does not exist, an unknown message or a path state the target
// lacks are type errors. Reported in the same located format as model errors.
import { resolve } from "node:path";
import { Project, ts } from "ts-morph";
import { displayPath } from "./load.ts";
import type { Diagnostic } from "./model/diagnostics.ts";
import { SPEC_LANGUAGE_ENTRY } from "./paths.ts";

export function typecheckSpecs(files: string[], cwd = process.cwd()): Diagnostic[] {
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
	const sources = files.map((f) => project.addSourceFileAtPath(resolve(cwd, f)));
	project.resolveSourceFileDependencies();
	const out: Diagnostic[] = [];
	for (const sf of sources) {
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
			out.push({
				loc: { file: displayPath(sf.getFilePath(), cwd), line, column },
				severity: "error",
				message: `TS${d.getCode()}: ${text}`,
			});
		}
	}
	return out;
}
