// Maps a value path in an evaluated spec (e.g. states.testUnitReady.rules.3)
// to where it was written and to the JSDoc comment above it. The spec is
// parsed with ts-morph (no type checking); object and array literals are
// followed through identifiers, spreads and `as`/`satisfies` so helpers and
// shared rule lists keep their positions.
import { Node, Project, SyntaxKind, ts } from "ts-morph";
import type { SourceLocation } from "./types.ts";

export type ValuePath = readonly (string | number)[];

interface Entry {
	loc: SourceLocation;
	doc?: string;
}

let project: Project | undefined;

function sharedProject(): Project {
	project ??= new Project({
		useInMemoryFileSystem: false,
		skipAddingFilesFromTsConfig: true,
		skipFileDependencyResolution: true,
		compilerOptions: { allowJs: false },
	});
	return project;
}

export class SourceIndex {
	private readonly entries = new Map<string, Entry>();
	/** Syntax errors of the file, located. */
	readonly syntaxErrors: { line: number; column: number; message: string }[] = [];
	readonly file: string;
	readonly root: SourceLocation;

	constructor(file: string, root: SourceLocation) {
		this.file = file;
		this.root = root;
	}

	set(path: ValuePath, entry: Entry): void {
		const key = path.join(".");
		if (!this.entries.has(key)) this.entries.set(key, entry);
	}

	/** The location of the deepest recorded prefix of `path`. */
	locate(path: ValuePath): SourceLocation {
		for (let n = path.length; n > 0; n--) {
			const e = this.entries.get(path.slice(0, n).join("."));
			if (e) return e.loc;
		}
		return this.root;
	}

	/** The JSDoc text written right above `path` itself, if any. */
	doc(path: ValuePath): string | undefined {
		return this.entries.get(path.join("."))?.doc;
	}
}

function jsDocOf(node: Node): string | undefined {
	const texts: string[] = [];
	for (const range of node.getLeadingCommentRanges()) {
		const text = range.getText();
		if (!text.startsWith("/**")) continue;
		texts.push(
			text
				.replace(/^\/\*\*/, "")
				.replace(/\*\/$/, "")
				.split("\n")
				.map((l) => l.replace(/^\s*\* ?/, "").trimEnd())
				.join("\n")
				.trim(),
		);
	}
	const doc = texts.filter(Boolean).join("\n");
	return doc === "" ? undefined : doc;
}

function unwrap(node: Node): Node {
	let n = node;
	for (;;) {
		if (Node.isAsExpression(n) || Node.isSatisfiesExpression(n) || Node.isParenthesizedExpression(n)) {
			n = n.getExpression();
		} else if (Node.isIdentifier(n)) {
			const decl = findLocalDeclaration(n);
			if (decl && Node.isVariableDeclaration(decl) && decl.getInitializer()) n = decl.getInitializerOrThrow();
			else return n;
		} else return n;
	}
}

/** Without a type checker, find `const NAME = …` in the same file. */
function findLocalDeclaration(id: Node): Node | undefined {
	const name = id.getText();
	return id
		.getSourceFile()
		.getDescendantsOfKind(SyntaxKind.VariableDeclaration)
		.find((d) => d.getName() === name);
}

function locOf(node: Node, file: string): SourceLocation {
	const sf = node.getSourceFile();
	const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
	return { file, line, column };
}

function walk(node: Node, path: (string | number)[], index: SourceIndex, file: string, depth: number): void {
	if (depth > 64) return;
	const n = unwrap(node);
	if (Node.isObjectLiteralExpression(n)) {
		for (const prop of n.getProperties()) {
			if (Node.isPropertyAssignment(prop) || Node.isShorthandPropertyAssignment(prop)) {
				const name = prop.getName().replace(/^["']|["']$/g, "");
				const p = [...path, name];
				index.set(p, { loc: locOf(prop, file), doc: jsDocOf(prop) });
				const init = Node.isPropertyAssignment(prop) ? prop.getInitializer() : prop.getNameNode();
				if (init) walk(init, p, index, file, depth + 1);
			} else if (Node.isSpreadAssignment(prop)) {
				walk(prop.getExpression(), path, index, file, depth + 1);
			} else if (Node.isMethodDeclaration(prop)) {
				index.set([...path, prop.getName()], { loc: locOf(prop, file), doc: jsDocOf(prop) });
			}
		}
	} else if (Node.isArrayLiteralExpression(n)) {
		let i = 0;
		for (const el of n.getElements()) {
			if (Node.isSpreadElement(el)) {
				const inner = unwrap(el.getExpression());
				if (Node.isArrayLiteralExpression(inner)) {
					for (const sub of inner.getElements()) {
						const p = [...path, i++];
						index.set(p, { loc: locOf(sub, file), doc: jsDocOf(sub) });
						walk(sub, p, index, file, depth + 1);
					}
				} else {
					// an array computed at run time: positions are unknown from here on
					index.set([...path, i], { loc: locOf(el, file), doc: jsDocOf(el) });
					return;
				}
			} else {
				const p = [...path, i++];
				index.set(p, { loc: locOf(el, file), doc: jsDocOf(el) });
				walk(el, p, index, file, depth + 1);
			}
		}
	} else if (Node.isCallExpression(n)) {
		// a helper call such as testUnitReady(): follow an object-literal
		// argument so positions inside it stay known
		const args = n.getArguments();
		if (args.length === 1) walk(args[0], path, index, file, depth + 1);
	}
}

/**
 * Indexes the default export of a spec file: `export default defineX({...})`.
 * `file` is the path used in diagnostics.
 */
export function indexSpecSource(absPath: string, file: string, text?: string): SourceIndex {
	const p = sharedProject();
	const existing = p.getSourceFile(absPath);
	if (existing) p.removeSourceFile(existing);
	const sf = text === undefined ? p.addSourceFileAtPath(absPath) : p.createSourceFile(absPath, text, { overwrite: true });
	const exportAssignment = sf.getExportAssignment((e) => !e.isExportEquals());
	const rootNode = exportAssignment ?? sf;
	const index = new SourceIndex(file, locOf(rootNode, file));
	for (const d of (sf.compilerNode as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? []) {
		const { line, column } = sf.getLineAndColumnAtPos(d.start ?? 0);
		index.syntaxErrors.push({ line, column, message: ts.flattenDiagnosticMessageText(d.messageText, " ") });
	}
	if (exportAssignment) {
		let expr = unwrap(exportAssignment.getExpression());
		if (Node.isCallExpression(expr) && expr.getArguments().length > 0) expr = expr.getArguments()[0];
		walk(expr, [], index, file, 0);
	}
	return index;
}
