// The C names of one checker file: every identifier its C uses, claimed
// from the file's symbol table, and what the lowering knows of the target.
import type {
	BudgetModel,
	CdbSymbolModel,
	CheckerModel,
	CommandModel,
	ContextFieldModel,
	ContextFieldType,
	DecoderModel,
	StateModel,
} from "../model/types.ts";
import { macroCase, snakeCase } from "./names.ts";
import type { HeaderNames } from "./headers.ts";
import { SymbolTable } from "./symbols.ts";

export const C_TYPES = { bool: "bool", u8: "unsigned char", u16: "unsigned short", u32: "unsigned int" } as const;

/** A member (context field, decoded field) of this type: a bytes one is an array of unsigned char. */
export function memberDecl(f: { readonly type: ContextFieldType; readonly length: number }, name: string): string {
	return f.type === "bytes" ? `unsigned char ${name}[${f.length}]` : `${C_TYPES[f.type]} ${name}`;
}

/**
 * A parameter of this type: a bytes one is a const array parameter, its
 * length written (C passes a pointer to its first byte). Its length also
 * lets clang-format keep decode_c0()'s signature within 79 columns (with
 * `*wwn` it prefers an 84-column first line to a return type on its own).
 */
export function paramDecl(f: { readonly type: ContextFieldType; readonly length: number }, name: string): string {
	return f.type === "bytes" ? `const unsigned char ${name}[${f.length}]` : `${C_TYPES[f.type]} ${name}`;
}
export const DXFER_C: Record<CommandModel["direction"], string> = {
	none: "SG_DXFER_NONE",
	toDevice: "SG_DXFER_TO_DEV",
	fromDevice: "SG_DXFER_FROM_DEV",
};

export function hex(v: number, digits = 2): string {
	return `0x${v.toString(16).padStart(digits, "0")}`;
}

/** The names of a decoder's C: its outcome enum, result struct and function. */
export interface DecoderNames {
	readonly decoder: DecoderModel;
	readonly fn: string;
	readonly struct: string;
	readonly outcomeEnum: string;
	readonly outcomes: readonly string[];
	readonly notDecoded: string;
	readonly fields: ReadonlyMap<string, string>;
}

/** What the lowering needs to know of the target ABI. */
export interface CheckerTarget {
	/** Path states the target lacks → what it gets instead. */
	readonly substitutes: Readonly<Record<string, string>>;
	/** Generic messages the target lacks → the target's instead. */
	readonly messageSubstitutes: Readonly<Record<string, string>>;
	/** Messages of the async framework that open the msgtable: their C names (declared by a header) and texts. */
	readonly frameworkMessages: readonly { readonly name: string; readonly text: string }[];
	/** The C name of the first checker message ID. */
	readonly firstMessage: string;
	/**
	 * Where big-endian reads and writes come from: the checker's own static
	 * helpers (a self-contained file), or the tree's unaligned.h.
	 */
	readonly byteOrder: "own" | "unaligned";
	/**
	 * Plugin ABI A/B: a checker with a map context exports libcheck_mp_init(),
	 * which allocates it into the map's slot (c->mpcontext); ABI C passes it
	 * to every check instead.
	 */
	readonly mapInit: boolean;
}

/** Every C name of one checker file, claimed from its symbol table. */
export class CheckerNames {
	readonly t: SymbolTable;
	readonly m: CheckerModel;
	readonly p: string;
	readonly P: string;
	readonly messages = new Map<string, string>();
	readonly budgetMax = new Map<BudgetModel, string>();
	readonly budgetCounter = new Map<BudgetModel, string>();
	readonly fields = new Map<ContextFieldModel, string>();
	readonly fieldMax = new Map<ContextFieldModel, string>();
	readonly stateFn = new Map<StateModel, string>();
	readonly stateStep = new Map<StateModel, string>();
	readonly dataLen = new Map<StateModel, string>();
	/** States whose data a later payload sends: their own buffer, a member of the check struct. */
	readonly kept = new Map<StateModel, string>();
	readonly decoders = new Map<DecoderModel, DecoderNames>();
	readonly cdbSymbols = new Map<string, CdbSymbolModel>();
	readonly multiState: boolean;
	contextTag = "";
	/** The fields of the path's context, and of the map's. */
	readonly pathFields: readonly ContextFieldModel[];
	readonly mapFields: readonly ContextFieldModel[];
	mapTag = "";
	mapLoad = "";
	mapStore = "";
	mapInit = "";
	checkTag = "";
	stepTag = "";
	done = "";
	bufLen = "";
	report = "";
	/** With init states: the function that runs steps until one ends the check or the init. */
	run = "";

	readonly target: CheckerTarget;

	constructor(m: CheckerModel, headers: HeaderNames, target: CheckerTarget) {
		this.m = m;
		this.target = target;
		this.p = m.name;
		this.P = m.name.toUpperCase();
		this.multiState = m.states.length > 1;
		this.pathFields = m.context.filter((f) => f.scope.kind === "path");
		this.mapFields = m.context.filter((f) => f.scope.kind === "map");
		this.t = new SymbolTable(`libmultipath/checkers/${m.name}.c`, m.loc);
		this.t.ordinary.reserve(headers.ordinary, "declared by a header the checker includes");
		this.t.tags.reserve(headers.tags, "a struct or enum of a header the checker includes");
		this.t.ordinary.reserve(
			["libcheck_msgtable", "libcheck_async_context_size", "libcheck_async_init", "libcheck_async_func", "libcheck_mp_init", "IDX_"],
			"a name of the checker plugin ABI",
		);
		this.claimAll();
	}

	private claimAll(): void {
		const { t, m, p, P } = this;
		const o = t.ordinary;
		const self = { what: `checker '${m.name}'`, loc: m.loc };
		for (const msg of m.messages) {
			this.messages.set(msg.key, o.claim(`MSG_${P}_${macroCase(msg.key)}`, { what: `message '${msg.key}'`, loc: msg.loc }));
		}
		if (m.maxDataLength > 0) this.bufLen = o.claim(`${P}_BUF_LEN`, { what: "the data buffer length of checker " + m.name, loc: m.loc });
		for (const s of m.states) {
			const origin = { what: `state '${s.key}'`, loc: s.loc };
			if (this.multiState) {
				this.stateFn.set(s, o.claim(`${p}_${snakeCase(s.key)}`, origin));
				this.stateStep.set(s, o.claim(`${P}_STEP_${macroCase(s.key)}`, origin));
			}
			if (s.kind === "command" && s.command.dataLength.kind === "const" && s.command.dataLength.value > 0) {
				this.dataLen.set(s, o.claim(`${P}_${macroCase(s.key)}_DATA_LEN`, origin));
			}
		}
		for (const s of m.states) {
			if (s.kind !== "command") continue;
			for (const b of s.command.cdb) {
				const syms = b.kind === "const" ? b.symbols : b.kind === "context" ? [...b.ifSetSymbols, ...b.ifClearSymbols] : [];
				for (const sym of syms) {
					if (this.cdbSymbols.has(sym.name)) continue;
					this.cdbSymbols.set(sym.name, sym);
					if (!sym.header) o.claim(sym.name, { what: `the CDB constant ${sym.name} of state '${s.key}'`, loc: s.loc });
				}
			}
		}
		const counters = this.multiState ? t.scope("member of the check struct") : t.scope("local of the check");
		for (const b of m.budgets) {
			const origin = { what: `retry budget '${b.key}'`, loc: b.loc };
			this.budgetMax.set(b, o.claim(`${P}_${macroCase(b.key)}_MAX_RETRIES`, origin));
			this.budgetCounter.set(b, counters.claim(`${snakeCase(b.key)}_retries`, origin));
		}
		const members = t.scope("member of the context struct");
		for (const f of m.context) {
			const origin = { what: `context field '${f.key}'`, loc: f.loc };
			this.fields.set(f, members.claim(snakeCase(f.key), origin));
			this.fieldMax.set(f, f.bounded ? o.claim(`${P}_${macroCase(f.key)}_MAX`, origin) : String(f.max));
		}
		const tags = t.tags;
		if (this.pathFields.length > 0) this.contextTag = tags.claim(`${p}_context`, self);
		if (this.mapFields.length > 0) {
			const origin = { what: `the map context of checker '${m.name}'`, loc: this.mapFields[0].loc };
			this.mapTag = tags.claim(`${p}_map_context`, origin);
			this.mapLoad = o.claim(`${p}_load_map`, origin);
			this.mapStore = o.claim(`${p}_store_map`, origin);
			this.mapInit = o.claim(`${P}_MAP_INIT`, origin);
		}
		if (this.multiState) {
			this.checkTag = tags.claim(`${p}_check`, self);
			this.stepTag = tags.claim(`${p}_step`, self);
			this.done = o.claim(`${P}_CHECK_DONE`, self);
			this.report = o.claim("report", { what: "the report() helper" });
			if (m.budgets.length > 0 || m.context.length > 0 || this.keptStates().length > 0) {
				const ckm = t.scope("member of the check struct");
				for (const n of ["rdata", "ctx", "map", "buf", "state", "msgid"]) ckm.claim(n, { what: "a member of the check struct" });
				for (const s of this.keptStates()) this.kept.set(s, ckm.claim(snakeCase(s.key), { what: `the data of state '${s.key}'`, loc: s.loc }));
			}
			if (m.init) this.run = o.claim(`${p}_run`, self);
		}
		for (const d of m.decoders) {
			const S = d.shortName.toUpperCase();
			const origin = { what: `decoder ${d.name} (used by checker ${m.name})`, loc: m.loc };
			const fieldScope = t.scope(`member of struct ${d.shortName}_data`);
			this.decoders.set(d, {
				decoder: d,
				fn: o.claim(`decode_${d.shortName}`, origin),
				struct: tags.claim(`${d.shortName}_data`, origin),
				outcomeEnum: tags.claim(`${d.shortName}_outcome`, origin),
				outcomes: d.outcomes.map((x) => o.claim(`${S}_${macroCase(x.key)}`, origin)),
				notDecoded: o.claim(`${S}_NOT_DECODED`, origin),
				fields: new Map(d.fields.map((f) => [f.key, fieldScope.claim(snakeCase(f.key), origin)])),
			});
		}
	}

	/** The states some payload sends the data of, in state order. */
	keptStates(): StateModel[] {
		const src = new Set<StateModel>(this.m.states.flatMap((s) => (s.kind === "command" && s.command.payload?.source ? [s.command.payload.source] : [])));
		return this.m.states.filter((s) => src.has(s));
	}

	field(f: ContextFieldModel): string {
		return this.fields.get(f)!;
	}

	/** The C of a context field in a state's code: the path context's (ctx), or the check's copy of the map context. */
	ref(f: ContextFieldModel): string {
		if (f.scope.kind === "path") return `ctx->${this.field(f)}`;
		return `${this.multiState ? "ck->map" : "map"}.${this.field(f)}`;
	}
}

