// The committed output in generated/ is what the generator produces now:
// regenerating is byte-identical, no file is missing or extra, and every
// file says that it is generated, from which spec, and how to regenerate it.
// The state diagrams (generated/diagrams/) are covered the same way.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { emit, RUNNER_SYMBOLS } from "../emit/index.ts";
import { initFormatter } from "../emit/format.ts";
import { DEFAULT_TARGETS, diagramFiles, embeddedSpecs, GENERATED_MARKER } from "../generate.ts";
import { loadSpecs } from "../load.ts";
import type { SpecModel } from "../model/types.ts";

function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((f) => {
		const p = join(dir, f);
		return statSync(p).isDirectory() ? filesUnder(p) : [p];
	});
}

let models: SpecModel[];
let files: Map<string, string>;
/** generated/diagrams/*.svg */
let diagrams: Map<string, string>;

/** What `npm run generate` writes: every target, each checker for the targets it lists. */
function emitAll(ms: readonly SpecModel[]): Map<string, string> {
	const out = new Map<string, string>();
	for (const t of DEFAULT_TARGETS) {
		for (const [p, text] of emit(ms.filter((m) => m.kind !== "checker" || m.targets.includes(t)), t)) out.set(p, text);
	}
	return out;
}

beforeAll(async () => {
	await initFormatter();
	models = await loadSpecs(embeddedSpecs());
	files = emitAll(models);
	diagrams = await diagramFiles(models);
});

describe("generated/ matches the generator", () => {
	it("every generated file is byte-identical to a fresh generation", () => {
		for (const [path, text] of [...files, ...diagrams]) {
			expect(readFileSync(join("generated", path), "utf8"), path).toBe(text);
		}
	});
	it("generated/ holds exactly the generated files", () => {
		const onDisk = filesUnder("generated").map((f) => relative("generated", f)).sort();
		expect(onDisk).toEqual([...files.keys(), ...diagrams.keys()].sort());
	});
	it("generating twice gives the same bytes", async () => {
		const again = emitAll(models);
		expect([...again.entries()]).toEqual([...files.entries()]);
		expect([...(await diagramFiles(models)).entries()]).toEqual([...diagrams.entries()]);
	});
	it("one diagram per spec: generated/diagrams/<checker>.svg and runner.svg", () => {
		const names = models.map((m) => (m.kind === "checker" ? m.name : "runner"));
		expect(names).toEqual(expect.arrayContaining(["alua", "cciss_tur", "directio", "emc_clariion", "hp_sw", "rdac", "readsector0", "runner", "tur"]));
		expect([...diagrams.keys()].sort()).toEqual(names.map((n) => `diagrams/${n}.svg`).sort());
	});
});

describe("file headers", () => {
	it("each file says in its first lines that it is generated, from which spec, with which command", () => {
		for (const [path, text] of files) {
			const head = text.split("\n").slice(0, 8).join("\n");
			expect(head, path).toContain(GENERATED_MARKER);
			// the runner's race test (program and script) comes from its templates, not from a spec
			expect(head, path).toMatch(/from (specs\/\w+\.ts|generator\/abi\/profiles\.ts|templates\/runner-test\.(c|sh)\.hbs)\. DO NOT EDIT\./);
			expect(head, path).toMatch(/To regenerate run:\n(\/\/| \*|#)   npx mpcheckgen generate (--spec specs\/\w+\.ts )?--target 0\.(15|9)\n/);
		}
	});
	it("each diagram says after its XML declaration that it is generated, from which spec, with which command", () => {
		for (const [path, text] of diagrams) {
			const m = models.find((x) => (x.kind === "runner" ? "runner" : x.name) === path.replace(/^diagrams\/|\.svg$/g, ""))!;
			expect(text.split("\n").slice(0, 4).join("\n"), path).toBe(
				'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
					`<!-- ${GENERATED_MARKER} from ${m.specFile}. DO NOT EDIT.\n` +
					"     To regenerate run:\n" +
					`       npx mpcheckgen diagram -s ${m.specFile} -->`,
			);
		}
	});
	it("C files start with the SPDX line and a Go-style generated line", () => {
		for (const [path, text] of files) {
			if (!/\.[ch]$/.test(path)) continue;
			expect(text.split("\n")[0], path).toBe("// SPDX-License-Identifier: GPL-2.0-or-later");
			expect(text, path).toMatch(/^\/\/ Code generated .* DO NOT EDIT\.$/m);
		}
	});
	it("headers are guarded with NAME_H_INCLUDED", () => {
		for (const [path, text] of files) {
			if (!path.endsWith(".h")) continue;
			const guard = `${path.split("/").pop()!.replace(/\.h$/, "").toUpperCase().replace(/[^A-Z0-9]/g, "_")}_H_INCLUDED`;
			expect(text, path).toContain(`#ifndef ${guard}\n#define ${guard}\n`);
			expect(text.trimEnd().endsWith(`#endif /* ${guard} */`), path).toBe(true);
		}
	});
	it("the version script's SPDX tag is inside /* */ on line 1", () => {
		const v = files.get("0.15/libmpathutil/libmpathutil.version")!;
		expect(v.split("\n")[0]).toBe("/* SPDX-License-Identifier: GPL-2.0-or-later */");
	});
});

describe("libmpathutil.version", () => {
	it("lists exactly the functions runner.c exports", () => {
		const runner = files.get("0.15/libmpathutil/runner.c")!;
		// non-static function definitions: a line starting with a type and a
		// name followed by "(", at column 0, then "{" on its own line
		const defined = [...runner.matchAll(/^(?!static)[a-z][\w\s*]*?\b(\w+)\([^;]*?\)\n\{/gm)].map((m) => m[1]).sort();
		const v = files.get("0.15/libmpathutil/libmpathutil.version")!;
		const listed = [...v.matchAll(/^\t(\w+);$/gm)].map((m) => m[1]).sort();
		expect(defined).toEqual([...RUNNER_SYMBOLS].sort());
		expect(listed).toEqual(defined);
	});
	it("is a new MINOR node inheriting the previous one", () => {
		const v = files.get("0.15/libmpathutil/libmpathutil.version")!;
		expect(v).toMatch(/^LIBMPATHUTIL_6\.2 \{\nglobal:\n(\t\w+;\n)+\} LIBMPATHUTIL_6\.1;\n$/m);
		// named in 0.15's version script but never written there; defined here
		expect(v).toContain("\tget_persistent_runner;");
	});
});
