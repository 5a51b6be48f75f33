// The symbol table of one output file: every identifier the lowering stage
// writes is claimed here, with the spec item it comes from. A name claimed
// twice, a C keyword, or a name the file's headers already declare is a
// located spec error naming both sides; nothing is renamed behind the
// author's back.
import type { Diagnostic } from "../model/diagnostics.ts";
import type { SourceLocation } from "../model/types.ts";

/** C keywords (C11 and the GNU ones the upstream build accepts). */
export const C_KEYWORDS: ReadonlySet<string> = new Set(`auto break case char const continue default do double else enum extern float for goto if inline int
long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local asm typeof
__asm__ __typeof__ __attribute__ __inline__ __restrict__ __extension__ bool`.split(/\s+/));

/**
 * Object-like macros of the compiler and of the headers a checker includes
 * that are spelt like identifiers a spec can produce: a member or a local of
 * that name would be replaced.
 */
const MACROS = "linux unix i386 errno true false bool NULL stdin stdout stderr".split(" ");

/** Prefixes of the POSIX thread and scheduler interfaces, and the implementation's own. */
const RESERVED_PREFIX = /^(pthread_|sched_|__)/;

/** Where a name comes from: the spec item (located) or the framework (a header, a fixed helper). */
export interface NameOrigin {
	/** What the name is, as a person says it: "state 'send'", "the sg_send() helper". */
	readonly what: string;
	readonly loc?: SourceLocation;
}

/** One namespace of C: ordinary identifiers (with macros), struct/enum tags, or the members of one struct. */
export class Namespace {
	private readonly names = new Map<string, NameOrigin>();
	private readonly table: SymbolTable;
	readonly label: string;

	constructor(table: SymbolTable, label: string) {
		this.table = table;
		this.label = label;
	}

	/** Claims `name` for `origin`; a clash is recorded as a diagnostic at the spec item's location. */
	claim(name: string, origin: NameOrigin): string {
		const prev = this.names.get(name) ?? this.table.reservedOrigin(name, this);
		if (prev) this.table.clash(name, origin, prev);
		else this.names.set(name, origin);
		return name;
	}

	has(name: string): boolean {
		return this.names.has(name);
	}

	/** Names the framework declares in this namespace (headers, fixed helpers): claimed without a spec location. */
	reserve(names: Iterable<string>, what: string): void {
		for (const n of names) if (!this.names.has(n)) this.names.set(n, { what });
	}
}

export class SymbolTable {
	readonly diagnostics: Diagnostic[] = [];
	/** Ordinary identifiers: functions, variables, enumerators, typedefs and macros of the file. */
	readonly ordinary: Namespace;
	/** struct and enum tags. */
	readonly tags: Namespace;
	private readonly fallback: SourceLocation;
	readonly file: string;

	constructor(file: string, fallback: SourceLocation) {
		this.file = file;
		this.fallback = fallback;
		this.ordinary = new Namespace(this, "identifier");
		this.tags = new Namespace(this, "tag");
	}

	/** A namespace of struct members or of a function's locals: macros and keywords still apply. */
	scope(label: string): Namespace {
		return new Namespace(this, label);
	}

	reservedOrigin(name: string, ns: Namespace): NameOrigin | undefined {
		if (C_KEYWORDS.has(name)) return { what: "a C keyword" };
		if (MACROS.includes(name)) return { what: "a macro of the C library or compiler" };
		if (ns === this.ordinary && RESERVED_PREFIX.test(name)) return { what: "a name the C library reserves" };
		return undefined;
	}

	clash(name: string, origin: NameOrigin, prev: NameOrigin): void {
		const loc = origin.loc ?? prev.loc ?? this.fallback;
		// one diagnostic per spec item: its other names clash for the same reason
		if (this.diagnostics.some((d) => d.loc === loc && d.message.startsWith(`${origin.what} becomes`))) return;
		const other = prev.loc ? `${prev.what} (line ${prev.loc.line})` : prev.what;
		const fix = prev.loc && origin.loc ? "rename one of them" : "rename it";
		this.diagnostics.push({ loc, severity: "error", message: `${origin.what} becomes ${name} in ${this.file}, which is already ${other}: ${fix}` });
	}
}
