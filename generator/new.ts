// `mpcheckgen new NAME`: starts a checker spec that validates and generates
// as it is. Without --dir it writes specs/NAME.ts under the current
// directory (in this repository: beside the embedded specs); with --dir DIR
// it lays out a fresh project: DIR/package.json (depending on mpcheckgen),
// DIR/tsconfig.json (what the editor and `validate` need) and
// DIR/specs/NAME.ts. Nothing is written when any of the files exists.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { C_KEYWORDS } from "./lower/symbols.ts";
import { CHECKER_NAME } from "./model/input.ts";
import { EMBEDDED_SPEC_DIR, PACKAGE_ROOT } from "./paths.ts";

export const NEW_TEMPLATES = ["blank", "tur", "alua"] as const;
export type NewTemplate = (typeof NEW_TEMPLATES)[number];
/** The ABI checker name limit (struct checker's name[16]). */
const MAX_NAME = 15;

export class NewSpecError extends Error {
	/** A usage error (exit 2) rather than a refusal (exit 1). */
	readonly usage: boolean;
	constructor(message: string, usage: boolean) {
		super(message);
		this.usage = usage;
	}
}

export interface NewSpecOptions {
	name: string;
	from: NewTemplate;
	/** A project directory to lay out; without it, specs/NAME.ts under cwd. */
	dir?: string;
	cwd?: string;
}

export interface NewSpecResult {
	/** The files written, as given to the user (relative to cwd when inside). */
	written: string[];
	/** What to run next. */
	next: string[];
}

export function checkCheckerName(name: string): void {
	if (!CHECKER_NAME.test(name)) {
		throw new NewSpecError(
			`'${name}' is not a checker name: lower-case letters, digits and '_', starting with a letter (it becomes C identifiers and libcheck${name}.so)`,
			true,
		);
	}
	if (name.length > MAX_NAME) throw new NewSpecError(`checker name '${name}' is longer than ${MAX_NAME} characters`, true);
	if (C_KEYWORDS.has(name)) throw new NewSpecError(`checker name '${name}' is a C keyword or a reserved name`, true);
}

function blankSpec(name: string, importFrom: string): string {
	return `// The ${name} path checker. Started by \`mpcheckgen new ${name}\`; every
// comment below says what the part does. Check it with
//   npx mpcheckgen validate <this file>
// and write the C with
//   npx mpcheckgen generate --spec <this file> --out generated
import { defineChecker, testUnitReady } from "${importFrom}";

export default defineChecker({
	// libcheck${name}.so: lower case, at most 15 characters
	name: "${name}",
	description: "checks a path with SCSI TEST UNIT READY",
	// the copyright line of the generated C
	copyright: "${new Date().getUTCFullYear()} The ${name} checker authors",
	// the multipath-tools checker ABIs this checker is written for
	targets: ["0.15"],
	// checker messages, added to the generic ones (UP, DOWN, GHOST, …);
	// a rule names one with \`message: "transitioning"\`
	messages: {
		/** The target port group is changing its ALUA state. */
		transitioning: { text: " reports path is transitioning" },
	},
	// named, bounded retry budgets; the rules that name one share it
	retryBudgets: {
		/** Three attempts in all. */
		transient: { maxRetries: 2 },
	},
	// every check starts in this state
	initial: "testUnitReady",
	states: {
		testUnitReady: {
			/** Send TEST UNIT READY and classify the answer. */
			command: testUnitReady(),
			// tried in order; the first rule that matches decides
			rules: [
				/** SG_IO is not supported: not a SCSI device. */
				{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				/** Any other ioctl error. */
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/** No status, host or driver error: the path is up. */
				{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP" } },
				/** UNIT ATTENTION: try again, at most twice. */
				{
					when: { sense: { key: "UNIT_ATTENTION" } },
					then: { retry: "transient", whenExhausted: { report: "PATH_DOWN", message: "DOWN" } },
				},
				/** Asymmetric access state transition (ASC/ASCQ 04/0A). */
				{
					when: { sense: { key: "NOT_READY", code: "04/0A" } },
					then: { report: "PATH_PENDING", message: "transitioning" },
				},
				/** The last rule has no \`when\`: everything else. */
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
`;
}

/** An embedded spec as the start of a new one: its import and name changed. */
function fromEmbedded(template: "tur" | "alua", name: string, importFrom: string): string {
	const text = readFileSync(join(EMBEDDED_SPEC_DIR, `${template}.ts`), "utf8");
	const header =
		`// The ${name} path checker, started by \`mpcheckgen new ${name} --from ${template}\` from\n` +
		`// mpcheckgen's embedded ${template} spec (specs/${template}.ts). Check it with\n` +
		`//   npx mpcheckgen validate <this file>\n` +
		`// and write the C with\n` +
		`//   npx mpcheckgen generate --spec <this file> --out generated\n`;
	const body = text
		.replace(/^(\/\/.*\n)+/, "")
		.replace(/from "\.\.\/generator\/spec\/index\.ts"/, `from "${importFrom}"`)
		.replace(new RegExp(`^(\\s*name: )"${template}",`, "m"), `$1"${name}",`);
	if (!body.includes(`from "${importFrom}"`) || !body.includes(`name: "${name}",`)) {
		throw new Error(`specs/${template}.ts does not have the import and name line mpcheckgen new rewrites`);
	}
	return header + body;
}

function packageJson(name: string): string {
	const pkg = {
		name: `${name.replace(/_/g, "-")}-checker`,
		version: "0.1.0",
		private: true,
		type: "module",
		scripts: {
			validate: `mpcheckgen validate specs/${name}.ts`,
			generate: `mpcheckgen generate --spec specs/${name}.ts --out generated`,
		},
		devDependencies: { mpcheckgen: `file:${PACKAGE_ROOT}` },
	};
	return `${JSON.stringify(pkg, null, "\t")}\n`;
}

/** What the editor and `mpcheckgen validate` type-check the specs with. */
function tsconfigJson(): string {
	const cfg = {
		compilerOptions: {
			target: "ES2022",
			module: "NodeNext",
			moduleResolution: "NodeNext",
			strict: true,
			noEmit: true,
			// mpcheckgen/spec's types are declarations built at install
			// (dist/types/); where they are not built yet, TypeScript reads
			// the sources, which import each other with .ts extensions
			allowImportingTsExtensions: true,
			skipLibCheck: true,
			lib: ["ES2022"],
			types: [],
		},
		include: ["specs"],
	};
	return `${JSON.stringify(cfg, null, "\t")}\n`;
}

export function newSpec(opts: NewSpecOptions): NewSpecResult {
	const cwd = opts.cwd ?? process.cwd();
	checkCheckerName(opts.name);
	if (!NEW_TEMPLATES.includes(opts.from)) {
		throw new NewSpecError(`unknown template '${opts.from}' (known: ${NEW_TEMPLATES.join(", ")})`, true);
	}
	const base = resolve(cwd, opts.dir ?? ".");
	const importFrom = "mpcheckgen/spec";
	const specPath = join(base, "specs", `${opts.name}.ts`);
	const spec = opts.from === "blank" ? blankSpec(opts.name, importFrom) : fromEmbedded(opts.from, opts.name, importFrom);
	const files: [string, string][] = [[specPath, spec]];
	if (opts.dir !== undefined) {
		files.unshift([join(base, "package.json"), packageJson(opts.name)], [join(base, "tsconfig.json"), tsconfigJson()]);
	}
	const show = (p: string) => {
		const rel = relative(cwd, p);
		return rel.startsWith("..") ? p : rel;
	};
	const existing = files.filter(([p]) => existsSync(p)).map(([p]) => show(p));
	if (existing.length > 0) {
		throw new NewSpecError(
			`${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}` +
				(opts.dir !== undefined && !existing.includes(show(specPath))
					? ` (to add a spec to an existing project, run mpcheckgen new ${opts.name} inside ${show(base)})`
					: ""),
			false,
		);
	}
	for (const [p, text] of files) {
		mkdirSync(dirname(p), { recursive: true });
		writeFileSync(p, text, { flag: "wx" });
	}
	const spec_ = show(specPath);
	const next =
		opts.dir !== undefined
			? [
					`next: cd ${show(base)} && npm install   # mpcheckgen for the editor and npx`,
					`      npx mpcheckgen validate specs/${opts.name}.ts`,
					`      npx mpcheckgen generate --spec specs/${opts.name}.ts --out generated`,
				]
			: base === PACKAGE_ROOT
				? [
						`next: npx mpcheckgen validate ${spec_}`,
						`      npx mpcheckgen generate   # every embedded spec, ${opts.name} included, into generated/0.15/`,
					]
				: [`next: npx mpcheckgen validate ${spec_}`, `      npx mpcheckgen generate --spec ${spec_} --out generated`];
	return { written: files.map(([p]) => show(p)), next };
}
