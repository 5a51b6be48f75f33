// Lowering of a checker model to the C IR of its file
// (libmultipath/checkers/NAME.c). Every identifier of the file is claimed
// here, from the file's symbol table; rule lists become if-chains, or a
// switch where consecutive rules test one field against constants. A
// one-state checker is one function with a retry label; a checker with
// several states is a step machine with one function per state.
import { SpecError } from "../model/diagnostics.ts";
import type {
	AssignmentModel,
	BudgetModel,
	CdbByteModel,
	CdbSymbolModel,
	CheckerModel,
	CommandModel,
	CommandStateModel,
	ConditionModel,
	ContextFieldModel,
	DecoderModel,
	FinalOutcomeModel,
	MessageRef,
	StateModel,
} from "../model/types.ts";
import { factKey } from "../model/types.ts";
import type { CCase, CFile, CItem, CSection, CStmt } from "./c-ir.ts";
import { testedRules, type TestedRule } from "./conditions.ts";
import { macroCase, snakeCase } from "./names.ts";
import type { HeaderNames } from "./headers.ts";
import { SymbolTable, type Namespace } from "./symbols.ts";

const C_TYPES = { bool: "bool", u8: "unsigned char", u16: "unsigned short", u32: "unsigned int" } as const;
const DXFER_C: Record<CommandModel["direction"], string> = {
	none: "SG_DXFER_NONE",
	toDevice: "SG_DXFER_TO_DEV",
	fromDevice: "SG_DXFER_FROM_DEV",
};

function hex(v: number, digits = 2): string {
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
}

/** Every C name of one checker file, claimed from its symbol table. */
class CheckerNames {
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
	readonly decoders = new Map<DecoderModel, DecoderNames>();
	readonly cdbSymbols = new Map<string, CdbSymbolModel>();
	readonly multiState: boolean;
	contextTag = "";
	checkTag = "";
	stepTag = "";
	done = "";
	bufLen = "";
	report = "";

	readonly target: CheckerTarget;

	constructor(m: CheckerModel, headers: HeaderNames, target: CheckerTarget) {
		this.m = m;
		this.target = target;
		this.p = m.name;
		this.P = m.name.toUpperCase();
		this.multiState = m.states.length > 1;
		this.t = new SymbolTable(`libmultipath/checkers/${m.name}.c`, m.loc);
		this.t.ordinary.reserve(headers.ordinary, "declared by a header the checker includes");
		this.t.tags.reserve(headers.tags, "a struct or enum of a header the checker includes");
		this.t.ordinary.reserve(
			["libcheck_msgtable", "libcheck_async_context_size", "libcheck_async_init", "libcheck_async_func", "IDX_"],
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
		if (m.context.length > 0) this.contextTag = tags.claim(`${p}_context`, self);
		if (this.multiState) {
			this.checkTag = tags.claim(`${p}_check`, self);
			this.stepTag = tags.claim(`${p}_step`, self);
			this.done = o.claim(`${P}_CHECK_DONE`, self);
			this.report = o.claim("report", { what: "the report() helper" });
			if (m.budgets.length > 0 || m.context.length > 0) {
				const chk = t.scope("member of the check struct");
				for (const n of ["rdata", "ctx", "buf", "state", "msgid"]) chk.claim(n, { what: "a member of the check struct" });
			}
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

	field(f: ContextFieldModel): string {
		return this.fields.get(f)!;
	}
}

/** Where a state's C finds things: the check struct of a step machine, or the locals of a one-state check. */
interface StateEnv {
	readonly n: CheckerNames;
	readonly state: StateModel;
	readonly decoder?: DecoderNames;
	budget(b: BudgetModel): string;
	/** Statements that end the check with a report. */
	report(o: Extract<FinalOutcomeModel, { kind: "report" }>): CStmt[];
	/** The statement that moves to a state (a retry of this one, or a goto). */
	jump(target: StateModel): CStmt;
}

function conditionTerms(c: ConditionModel, env: StateEnv): string[] {
	const any = (exprs: string[]) => [exprs.join(" || ")];
	const symbolOrHex = (w: { value: number; symbol?: string }) => w.symbol ?? hex(w.value);
	const f = c.fact;
	switch (f.kind) {
		case "errno": {
			if (c.implied || (c.allowed.length === 1 && c.allowed[0][0] === 0 && c.allowed[0][1] === 0)) return ["ans.err == 0"];
			if (c.written.length === 0) return ["ans.err != 0"];
			return any(c.written.map((w) => `ans.err == ${w.symbol ?? w.value}`));
		}
		case "status":
			return any(c.written.map((w) => `(ans.status & 0x7e) == ${hex(w.value)}`));
		case "sgInfo":
			return [c.allowed[0][0] === 0 ? "(ans.info & SG_INFO_OK_MASK) == SG_INFO_OK" : "(ans.info & SG_INFO_OK_MASK) != SG_INFO_OK"];
		case "hostStatus":
			return c.negated
				? c.written.map((w) => `ans.host_status != ${symbolOrHex(w)}`)
				: any(c.written.map((w) => `ans.host_status == ${symbolOrHex(w)}`));
		case "senseKey":
			return any(c.written.map((w) => `ans.sense_key == ${symbolOrHex(w)}`));
		case "senseCode": {
			// small ranges as exact codes, a whole ASC as one test
			const exprs = c.allowed.flatMap(([lo, hi]) => {
				if ((lo & 0xff) === 0 && hi === (lo | 0xff)) return [`ans.asc == ${hex(lo >> 8)}`];
				if (hi - lo < 8) {
					return Array.from({ length: hi - lo + 1 }, (_, k) => `(ans.asc == ${hex((lo + k) >> 8)} && ans.ascq == ${hex((lo + k) & 0xff)})`);
				}
				return [`((ans.asc << 8 | ans.ascq) >= ${hex(lo, 4)} && (ans.asc << 8 | ans.ascq) <= ${hex(hi, 4)})`];
			});
			// a single exact code reads best as two plain terms
			if (exprs.length === 1 && exprs[0].startsWith("(ans.asc ==")) return exprs[0].slice(1, -1).split(" && ");
			return any(exprs);
		}
		case "context": {
			const field = `ctx->${env.n.field(f.field)}`;
			if (f.field.type === "bool") return [c.written[0].value ? field : `!${field}`];
			return any(c.written.map((w) => `${field} == ${w.value}`));
		}
		case "dataOutcome":
			return any(c.written.map((w) => `d.outcome == ${env.decoder!.outcomes[w.value]}`));
		case "dataField": {
			const name = `d.${env.decoder!.fields.get(f.field.key)!}`;
			if (f.field.type === "bool") return [c.written[0].value ? name : `!${name}`];
			return any(c.written.map((w) => `${name} == ${hex(w.value)}`));
		}
	}
}

/** The switch expression and case label for a condition a switch can test. */
function switchOn(c: ConditionModel, env: StateEnv): { on: string; label: (v: number, symbol?: string) => string } | undefined {
	if (c.negated || c.written.length !== 1) return undefined;
	const f = c.fact;
	switch (f.kind) {
		case "dataOutcome":
			return { on: "d.outcome", label: (v) => env.decoder!.outcomes[v] };
		case "senseKey":
			return { on: "ans.sense_key", label: (v, s) => s ?? hex(v) };
		case "hostStatus":
			return { on: "ans.host_status", label: (v, s) => s ?? hex(v) };
		case "status":
			return { on: "ans.status & 0x7e", label: (v) => hex(v) };
		case "dataField":
			return f.field.type === "bool" ? undefined : { on: `d.${env.decoder!.fields.get(f.field.key)!}`, label: (v) => hex(v) };
		case "context":
			return f.field.type === "bool" ? undefined : { on: `ctx->${env.n.field(f.field)}`, label: (v) => String(v) };
		default:
			return undefined;
	}
}

function assignments(list: readonly AssignmentModel[], env: StateEnv): CStmt[] {
	return list.flatMap((a): CStmt[] => {
		const target = `ctx->${env.n.field(a.field)}`;
		const v = a.value;
		const expr =
			v.kind === "const"
				? a.field.type === "bool"
					? v.value
						? "true"
						: "false"
					: String(v.value)
				: v.kind === "context"
					? `ctx->${env.n.field(v.field)}`
					: `d.${env.decoder!.fields.get(v.field.key)!}`;
		// a store never exceeds the field's max: larger values are clamped
		const clamps = a.field.type !== "bool" && (v.kind === "const" ? v.value : v.max) > a.field.max;
		if (!clamps) return [{ kind: "expr", text: `${target} = ${expr}` }];
		const max = env.n.fieldMax.get(a.field)!;
		return [
			{
				kind: "if",
				cond: [`${expr} > ${max}`],
				then: [{ kind: "expr", text: `${target} = ${max}` }],
				else: [{ kind: "expr", text: `${target} = ${expr}` }],
			},
		];
	});
}

function finalStmts(o: FinalOutcomeModel, env: StateEnv): CStmt[] {
	const stores = assignments(o.assignments, env);
	return o.kind === "report" ? [...stores, ...env.report(o)] : [...stores, env.jump(o.target)];
}

/** The statements of one rule; `skip` holds facts a surrounding switch has tested already. */
function ruleStmts(tr: TestedRule, env: StateEnv, skip: ReadonlySet<string>): CStmt[] {
	const terms = tr.tests.filter((c) => !skip.has(factKey(c.fact))).flatMap((c) => conditionTerms(c, env));
	const o = tr.rule.outcome;
	const doc: CStmt[] = tr.rule.doc ? [{ kind: "comment", text: tr.rule.doc }] : [];
	let cond = terms;
	let body: CStmt[];
	if (o.kind === "retry") {
		const counter = env.budget(o.budget);
		const retry: CStmt[] = [{ kind: "expr", text: `${counter}++` }, ...assignments(o.assignments, env), env.jump(o.target)];
		const test = `${counter} < ${env.n.budgetMax.get(o.budget)!}`;
		if (o.exhausted === null) {
			cond = [...terms, test];
			body = retry;
		} else body = [{ kind: "if", cond: [test], then: retry }, ...finalStmts(o.exhausted, env)];
	} else body = finalStmts(o, env);
	if (cond.length === 0) return [...doc, ...body];
	return [...doc, { kind: "if", cond, then: body }];
}

/** Whether the rule always ends the list once the facts in `skip` hold. */
function alwaysEnds(tr: TestedRule, skip: ReadonlySet<string>): boolean {
	return tr.rule.terminal && tr.tests.every((c) => skip.has(factKey(c.fact)));
}

/** The switchable test of a rule on fact `key`, if it has one. */
function switchTest(tr: TestedRule, key: string, env: StateEnv): ConditionModel | undefined {
	const c = tr.tests.find((x) => factKey(x.fact) === key);
	return c && switchOn(c, env) ? c : undefined;
}

/** The longest run of rules from `start` that each test one fact against one constant. */
function switchRun(trs: readonly TestedRule[], start: number, env: StateEnv, skip: ReadonlySet<string>): { key: string; end: number } | undefined {
	let best: { key: string; end: number } | undefined;
	for (const c of trs[start].tests) {
		const key = factKey(c.fact);
		if (skip.has(key) || !switchOn(c, env)) continue;
		let end = start;
		while (end < trs.length && switchTest(trs[end], key, env)) end++;
		if (!best || end > best.end) best = { key, end };
	}
	return best;
}

/** A rule list in C: if-chains, and a switch for a run of rules over three or more constants of one field. */
function ruleList(trs: readonly TestedRule[], env: StateEnv, skip: ReadonlySet<string>): CStmt[] {
	const out: CStmt[] = [];
	for (let i = 0; i < trs.length; ) {
		const run = switchRun(trs, i, env, skip);
		const runRules = run ? trs.slice(i, run.end) : [];
		const values = run ? [...new Set(runRules.map((r) => switchTest(r, run.key, env)!.written[0].value))] : [];
		if (!run || values.length < 3) {
			out.push(...ruleStmts(trs[i], env, skip));
			i++;
			continue;
		}
		const first = switchTest(runRules[0], run.key, env)!;
		const how = switchOn(first, env)!;
		const inner = new Set([...skip, run.key]);
		const cases: CCase[] = values.map((v) => {
			const rules = runRules.filter((r) => switchTest(r, run.key, env)!.written[0].value === v);
			const w = switchTest(rules[0], run.key, env)!.written[0];
			const body = ruleList(rules, env, inner);
			return { labels: [how.label(v, w.symbol)], body: rules.some((r) => alwaysEnds(r, inner)) ? body : [...body, { kind: "break" }] };
		});
		i = run.end;
		const allEnd = cases.every((c) => c.body[c.body.length - 1].kind !== "break");
		const next = trs[i];
		if (allEnd && next && i === trs.length - 1 && alwaysEnds(next, skip)) {
			cases.push({ labels: ["default"], body: ruleStmts(next, env, skip) });
			i++;
		} else if (first.fact.kind === "dataOutcome" && values.length < first.fact.domain[1] + 1) {
			// an enum switch names every enumerator, or has a default
			cases.push({ labels: ["default"], body: [{ kind: "break" }] });
		}
		out.push({ kind: "switch", on: how.on, cases });
	}
	return out;
}

function symbolic(value: number, symbols: readonly CdbSymbolModel[]): string {
	return symbols.length > 0 ? symbols.map((s) => s.name).join(" | ") : hex(value);
}

/** Where the CDB carries the allocation length, if it does: its first byte and its size. */
function allocationLength(cmd: CommandModel): { offset: number; size: number } | undefined {
	const offset = cmd.cdb.findIndex((b) => b.kind === "allocationLength");
	if (offset < 0) return undefined;
	return { offset, size: cmd.cdb.filter((b) => b.kind === "allocationLength").length };
}

/** The CDB declaration (constant bytes, trailing zeros left to C), and the statements that set the rest. */
function cdbStmts(s: CommandStateModel, env: StateEnv, len: string): { decl: CStmt; setup: CStmt[] } {
	const cmd = s.command;
	const bytes = cmd.cdb.map((b: CdbByteModel) => {
		if (b.kind === "const") return b.value === 0 && b.symbols.length === 0 ? "0" : symbolic(b.value, b.symbols);
		if (b.kind === "context") return symbolic(b.ifClear, b.ifClearSymbols);
		return "0";
	});
	while (bytes.length > 1 && bytes[bytes.length - 1] === "0") bytes.pop();
	const setup: CStmt[] = [];
	cmd.cdb.forEach((b, i) => {
		if (b.kind === "context") {
			setup.push({
				kind: "if",
				cond: [`ctx->${env.n.field(b.field)}`],
				then: [{ kind: "expr", text: `cdb[${i}] = ${symbolic(b.ifSet, b.ifSetSymbols)}` }],
			});
		}
	});
	const alloc = allocationLength(cmd);
	if (alloc) {
		setup.push({
			kind: "expr",
			text:
				alloc.size === 1
					? `cdb[${alloc.offset}] = ${len}`
					: `${env.n.target.byteOrder === "unaligned" ? "put_unaligned_be" : "put_be"}${alloc.size * 8}(${len}, cdb + ${alloc.offset})`,
		});
	}
	return { decl: { kind: "decl", decl: `unsigned char cdb[${cmd.cdb.length}]`, init: { kind: "list", values: bytes } }, setup };
}

/** The big-endian readers the decoders use and the writers the allocation lengths use. */
function allocationSizes(m: CheckerModel): Set<number> {
	return new Set(m.states.flatMap((s) => (s.kind === "command" ? [allocationLength(s.command)?.size ?? 0] : [])));
}

function byteOrderHelpers(m: CheckerModel, n: CheckerNames): CItem[] {
	const sizes = allocationSizes(m);
	const items: CItem[] = [];
	if (n.target.byteOrder === "unaligned") return items;
	const origin = { what: "a byte-order helper" };
	if (m.decoders.length > 0) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "unsigned int",
			name: n.t.ordinary.claim("get_be16", origin),
			params: ["const unsigned char *p"],
			body: [{ kind: "return", value: "p[0] << 8 | p[1]" }],
		});
		items.push({
			kind: "function",
			isStatic: true,
			returns: "unsigned int",
			name: n.t.ordinary.claim("get_be32", origin),
			params: ["const unsigned char *p"],
			body: [{ kind: "return", value: "(unsigned int)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]" }],
		});
	}
	if (sizes.has(2)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "void",
			name: n.t.ordinary.claim("put_be16", origin),
			params: ["unsigned int v", "unsigned char *p"],
			body: [
				{ kind: "expr", text: "p[0] = (v >> 8) & 0xff" },
				{ kind: "expr", text: "p[1] = v & 0xff" },
			],
		});
	}
	if (sizes.has(4)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "void",
			name: n.t.ordinary.claim("put_be32", origin),
			params: ["unsigned int v", "unsigned char *p"],
			body: [
				{ kind: "expr", text: "p[0] = (v >> 24) & 0xff" },
				{ kind: "expr", text: "p[1] = (v >> 16) & 0xff" },
				{ kind: "expr", text: "p[2] = (v >> 8) & 0xff" },
				{ kind: "expr", text: "p[3] = v & 0xff" },
			],
		});
	}
	return items;
}

function usesContext(s: StateModel, m: CheckerModel): boolean {
	if (m.context.length === 0) return false;
	if (s.kind === "decision") return true;
	const assigns = s.rules.some((r) => {
		const o = r.outcome;
		return o.assignments.length > 0 || (o.kind === "retry" && o.exhausted !== null && o.exhausted.assignments.length > 0);
	});
	return (
		assigns ||
		s.rules.some((r) => r.conditions.some((c) => c.fact.kind === "context")) ||
		s.command.dataLength.kind === "context" ||
		s.command.cdb.some((b) => b.kind === "context") ||
		(s.decoder !== null && (s.decoder.inputs.length > 0 || s.decoder.store.length > 0))
	);
}

/** The body of a state: its declarations, the command and decoding, and the rules. */
function stateBody(s: StateModel, env: StateEnv, io: { fd: string; timeout: string; buf: string }, head: CStmt[]): CStmt[] {
	const n = env.n;
	const decls: CStmt[] = [];
	const run: CStmt[] = [...head];
	if (usesContext(s, n.m)) decls.push({ kind: "decl", decl: `struct ${n.contextTag} *ctx`, init: n.multiState ? "chk->ctx" : "(void *)rdata->checker_ctx" });
	if (s.kind === "command") {
		const cmd = s.command;
		const len = cmd.dataLength.kind === "context" ? "len" : (n.dataLen.get(s) ?? "0");
		const { decl, setup } = cdbStmts(s, env, len);
		decls.push(decl);
		if (cmd.dataLength.kind === "context") decls.push({ kind: "decl", decl: "unsigned int len", init: `ctx->${n.field(cmd.dataLength.field)}` });
		decls.push({ kind: "decl", decl: "struct sg_answer ans" });
		if (env.decoder) decls.push({ kind: "decl", decl: `struct ${env.decoder.struct} d` });
		run.push(...setup);
		const buf = cmd.direction === "none" ? "NULL" : io.buf;
		run.push({ kind: "expr", text: `sg_send(${io.fd}, ${io.timeout}, cdb, sizeof(cdb), ${DXFER_C[cmd.direction]}, ${buf}, ${len}, &ans)` });
		if (env.decoder && s.decoder) {
			const d = env.decoder;
			const inputs = s.decoder.inputs.map((i) => `ctx->${n.field(i.field)}`);
			run.push({
				kind: "if",
				cond: ["ans.err == 0", "(ans.info & SG_INFO_OK_MASK) == SG_INFO_OK"],
				then: [{ kind: "expr", text: `${d.fn}(${[io.buf, "ans.transferred", len, ...inputs, "&d"].join(", ")})` }],
				else: [{ kind: "expr", text: `d.outcome = ${d.notDecoded}` }],
			});
			for (const st of s.decoder.store) {
				run.push({ kind: "if", cond: [`d.outcome == ${d.outcomes[st.outcome.index]}`], then: assignments(st.assignments, env) });
			}
		}
	}
	run.push(...ruleList(testedRules(s.rules), env, new Set()));
	return [...decls, ...(decls.length > 0 ? [{ kind: "blank" } as CStmt] : []), ...run];
}

const CANCEL_POINT: CStmt[] = [
	{
		kind: "comment",
		text: "A check that timed out is cancelled: it stops here, before its next command, rather than when that command returns.",
	},
	{ kind: "expr", text: "pthread_testcancel()" },
];

function outOfMemory(n: CheckerNames): CStmt {
	return {
		kind: "if",
		cond: [n.multiState ? "!chk.buf" : "!buf"],
		then: [
			{ kind: "expr", text: `condlog(1, "%d:%d : ${n.m.name} checker: out of memory", major(rdata->devt), minor(rdata->devt))` },
			{ kind: "expr", text: "rdata->msgid = CHECKER_MSGID_NONE" },
			{ kind: "return", value: "PATH_UNCHECKED" },
		],
	};
}

function stateDoc(s: StateModel): string {
	const title = s.kind === "command" ? `State "${s.key}": ${s.command.name}.` : `State "${s.key}": decide from the context.`;
	return s.doc ? `${title}\n\n${s.doc}` : title;
}

/** A one-state check: one function, a retry label, reports straight into rdata. */
function oneStateFunctions(n: CheckerNames): CItem[] {
	const s = n.m.states[0];
	const retries = s.rules.some((r) => r.outcome.kind === "retry");
	const env: StateEnv = {
		n,
		state: s,
		decoder: s.kind === "command" && s.decoder ? n.decoders.get(s.decoder.decoder) : undefined,
		budget: (b) => n.budgetCounter.get(b)!,
		report: (o) => [
			{ kind: "expr", text: `rdata->msgid = ${messageName(n, o.message)}` },
			{ kind: "return", value: pathStateName(n, o.pathState.name) },
		],
		jump: () => ({ kind: "goto", label: "retry" }),
	};
	const counters: CStmt[] = n.m.budgets.map((b) => ({ kind: "decl", decl: `unsigned int ${n.budgetCounter.get(b)!}`, init: "0" }));
	const head: CStmt[] = retries ? [{ kind: "label", name: "retry" }, ...CANCEL_POINT] : [];
	const withBuf = n.m.maxDataLength > 0;
	const body = stateBody(s, env, { fd: "rdata->fd", timeout: "rdata->timeout", buf: "buf" }, head);
	const split = body.findIndex((x) => x.kind !== "decl" || x.decl.startsWith("struct sg_answer"));
	const full = [...body.slice(0, split), ...counters, ...body.slice(split)];
	if (!withBuf) {
		return [{ kind: "function", doc: stateDoc(s), isStatic: false, returns: "int", name: "libcheck_async_func", params: ["struct runner_data *rdata"], body: full }];
	}
	const fn = n.t.ordinary.claim(`${n.p}_${snakeCase(s.key)}`, { what: `state '${s.key}'`, loc: s.loc });
	return [
		{ kind: "function", doc: stateDoc(s), isStatic: true, returns: "int", name: fn, params: ["struct runner_data *rdata", "unsigned char *buf"], body: full },
		{
			kind: "function",
			isStatic: false,
			returns: "int",
			name: "libcheck_async_func",
			params: ["struct runner_data *rdata"],
			body: [
				{ kind: "decl", decl: "unsigned char *buf" },
				{ kind: "decl", decl: "int state" },
				{ kind: "blank" },
				{ kind: "expr", text: `buf = malloc(${n.bufLen})` },
				outOfMemory(n),
				{ kind: "expr", text: "pthread_cleanup_push(free, buf)" },
				{ kind: "expr", text: `state = ${fn}(rdata, buf)` },
				{ kind: "expr", text: "pthread_cleanup_pop(1)" },
				{ kind: "return", value: "state" },
			],
		},
	];
}

function messageName(n: CheckerNames, m: MessageRef): string {
	if (m.kind === "checker") return n.messages.get(m.key)!;
	return `CHECKER_MSGID_${n.target.messageSubstitutes[m.key] ?? m.key}`;
}

/** The path state as the target has it (0.9.4 has no PATH_DISCONNECTED: PATH_DOWN, as later multipathd makes of it). */
function pathStateName(n: CheckerNames, name: string): string {
	return n.target.substitutes[name] ?? name;
}

/** A step machine: a function per state returning the next step, a dispatch loop in libcheck_async_func. */
function stepMachineItems(n: CheckerNames): CItem[] {
	const { m } = n;
	const items: CItem[] = [];
	items.push({
		kind: "enum",
		tag: n.stepTag,
		members: [...m.states.map((s) => ({ name: n.stateStep.get(s)! })), { name: n.done }],
	});
	items.push({
		kind: "struct",
		tag: n.checkTag,
		doc: "One check in progress",
		members: [
			{ decl: "struct runner_data *rdata" },
			...(m.context.length > 0 ? [{ decl: `struct ${n.contextTag} *ctx` }] : []),
			...(m.maxDataLength > 0 ? [{ decl: "unsigned char *buf", doc: "the data buffer of every command" }] : []),
			...m.budgets.map((b) => ({ decl: `unsigned int ${n.budgetCounter.get(b)!}` })),
			{ decl: "int state" },
			{ decl: "short msgid" },
		],
	});
	return items;
}

function stepMachineFunctions(n: CheckerNames): CItem[] {
	const { m } = n;
	const items: CItem[] = [];
	items.push({
		kind: "function",
		isStatic: true,
		returns: `enum ${n.stepTag}`,
		name: n.report,
		params: [`struct ${n.checkTag} *chk`, "int state", "short msgid"],
		body: [
			{ kind: "expr", text: "chk->state = state" },
			{ kind: "expr", text: "chk->msgid = msgid" },
			{ kind: "return", value: n.done },
		],
	});
	for (const s of m.states) {
		const env: StateEnv = {
			n,
			state: s,
			decoder: s.kind === "command" && s.decoder ? n.decoders.get(s.decoder.decoder) : undefined,
			budget: (b) => `chk->${n.budgetCounter.get(b)!}`,
			report: (o) => [{ kind: "return", value: `${n.report}(chk, ${pathStateName(n, o.pathState.name)}, ${messageName(n, o.message)})` }],
			jump: (target) => ({ kind: "return", value: n.stateStep.get(target)! }),
		};
		items.push({
			kind: "function",
			doc: stateDoc(s),
			isStatic: true,
			returns: `enum ${n.stepTag}`,
			name: n.stateFn.get(s)!,
			params: [`struct ${n.checkTag} *chk`],
			body: stateBody(s, env, { fd: "chk->rdata->fd", timeout: "chk->rdata->timeout", buf: "chk->buf" }, []),
		});
	}
	const withBuf = m.maxDataLength > 0;
	const dispatch: CCase[] = [
		...m.states.map((s) => ({
			labels: [n.stateStep.get(s)!],
			body: [{ kind: "expr", text: `step = ${n.stateFn.get(s)!}(&chk)` } as CStmt, { kind: "break" } as CStmt],
		})),
		{ labels: [n.done], body: [{ kind: "break" }] },
	];
	items.push({
		kind: "function",
		isStatic: false,
		returns: "int",
		name: "libcheck_async_func",
		params: ["struct runner_data *rdata"],
		body: [
			{
				kind: "decl",
				decl: `struct ${n.checkTag} chk`,
				init: {
					kind: "designated",
					entries: [
						{ designator: ".rdata", value: "rdata" },
						...(m.context.length > 0 ? [{ designator: ".ctx", value: "(void *)rdata->checker_ctx" }] : []),
						{ designator: ".state", value: "PATH_UNCHECKED" },
						{ designator: ".msgid", value: "CHECKER_MSGID_NONE" },
					],
				},
			},
			{ kind: "decl", decl: `enum ${n.stepTag} step`, init: n.stateStep.get(m.initial)! },
			{ kind: "blank" },
			...(withBuf
				? ([
						{ kind: "expr", text: `chk.buf = malloc(${n.bufLen})` },
						outOfMemory(n),
						{ kind: "expr", text: "pthread_cleanup_push(free, chk.buf)" },
						{ kind: "blank" },
					] as CStmt[])
				: []),
			{ kind: "while", cond: `step != ${n.done}`, body: [...CANCEL_POINT, { kind: "switch", on: "step", cases: dispatch }] },
			...(withBuf ? ([{ kind: "expr", text: "pthread_cleanup_pop(1)" }] as CStmt[]) : []),
			{ kind: "expr", text: "rdata->msgid = chk.msgid" },
			{ kind: "return", value: "chk.state" },
		],
	});
	return items;
}

function decoderItems(n: CheckerNames): CItem[] {
	const items: CItem[] = [];
	if (n.m.decoders.length === 0) return items;
	for (const d of n.m.decoders) {
		const dn = n.decoders.get(d)!;
		items.push({
			kind: "enum",
			tag: dn.outcomeEnum,
			doc: `What ${d.name} found: ${d.doc}`,
			members: [
				...d.outcomes.map((o, i) => ({ name: dn.outcomes[i], doc: o.doc })),
				{ name: dn.notDecoded, doc: "the answer was not GOOD: nothing was decoded" },
			],
		});
		items.push({
			kind: "struct",
			tag: dn.struct,
			members: [
				{ decl: `enum ${dn.outcomeEnum} outcome` },
				...d.fields.map((f) => ({ decl: `${C_TYPES[f.type]} ${dn.fields.get(f.key)!}`, doc: f.doc })),
			],
		});
		const own = n.target.byteOrder === "own";
		const names: Record<string, string> = {
			fn: dn.fn,
			struct: dn.struct,
			notDecoded: dn.notDecoded,
			getBe16: own ? "get_be16" : "get_unaligned_be16",
			getBe32: own ? "get_be32" : "get_unaligned_be32",
		};
		d.outcomes.forEach((o, i) => (names[o.key] = dn.outcomes[i]));
		items.push({ kind: "fragment", template: `decoders/${d.name}.c.hbs`, names });
	}
	return items;
}

/** The file a checker model lowers to; throws SpecError when its C names clash. */
export function lowerChecker(m: CheckerModel, headers: HeaderNames, target: CheckerTarget): CFile {
	const n = new CheckerNames(m, headers, target);
	const sections: CSection[] = [];
	const defines: CItem[] = [];
	if (n.bufLen) defines.push({ kind: "define", name: n.bufLen, value: String(m.maxDataLength), doc: "The data buffer: the largest any command uses" });
	for (const [s, name] of n.dataLen) {
		const len = (s as CommandStateModel).command.dataLength;
		if (len.kind === "const") defines.push({ kind: "define", name, value: String(len.value), doc: `The data length of state "${s.key}"` });
	}
	sections.push({ items: defines, tight: true });
	const symbols = [...n.cdbSymbols.values()].filter((s) => !s.header);
	sections.push({ items: symbols.map((s) => ({ kind: "define", name: s.name, value: hex(s.value), doc: s.doc })), tight: true });
	const framework = target.frameworkMessages;
	if (m.messages.length > 0 || framework.length > 0) {
		sections.push({
			items: [
				...(m.messages.length > 0
					? [
							{
								kind: "enum",
								members: m.messages.map((msg, i) => ({
									name: n.messages.get(msg.key)!,
									value: i === 0 ? target.firstMessage : undefined,
									doc: msg.doc,
								})),
							} as CItem,
						]
					: []),
				{ kind: "define", name: "IDX_(x)", value: "((x) - CHECKER_FIRST_MSGID)" },
				{
					kind: "variable",
					decl: "const char *libcheck_msgtable[]",
					verbatim: true,
					init: {
						kind: "designated",
						entries: [
							...framework.map((f) => ({ designator: `[IDX_(${f.name})]`, value: JSON.stringify(f.text) })),
							...m.messages.map((msg) => ({ designator: `[IDX_(${n.messages.get(msg.key)!})]`, value: JSON.stringify(msg.text) })),
							{ designator: "", value: "NULL" },
						],
					},
				},
			],
		});
	}
	sections.push({
		items: m.budgets.map((b) => ({ kind: "define", name: n.budgetMax.get(b)!, value: String(b.maxRetries), doc: b.doc })),
		tight: true,
	});
	const bounds = m.context.filter((f) => f.bounded && clampedFields(m).has(f));
	if (bounds.length > 0) {
		sections.push({
			items: [
				{ kind: "comment", text: "Bounds of context fields: a larger value is stored as the bound" },
				...bounds.map((f): CItem => ({ kind: "define", name: n.fieldMax.get(f)!, value: String(f.max) })),
			],
			tight: true,
		});
	}
	if (m.context.length > 0) {
		sections.push({
			items: [
				{
					kind: "struct",
					tag: n.contextTag,
					doc: "The per-path context, kept between checks. A check works on a copy; changes are kept only when the check completes.",
					members: m.context.map((f) => ({ decl: `${C_TYPES[f.type]} ${n.field(f)}`, doc: f.doc })),
				},
				{ kind: "variable", decl: "int libcheck_async_context_size", init: `sizeof(struct ${n.contextTag})` },
			],
		});
	}
	if (n.multiState) sections.push({ items: stepMachineItems(n) });
	sections.push({ items: byteOrderHelpers(m, n) });
	sections.push({ items: decoderItems(n) });
	const checks = n.multiState ? stepMachineFunctions(n) : oneStateFunctions(n);
	const init: CItem[] = [];
	if (m.context.length > 0) {
		init.push({
			kind: "function",
			isStatic: false,
			returns: "int",
			name: "libcheck_async_init",
			params: ["struct runner_data *rdata"],
			body: [
				{ kind: "decl", decl: `struct ${n.contextTag} *ctx`, init: "(void *)rdata->checker_ctx" },
				{ kind: "blank" },
				{ kind: "expr", text: "memset(ctx, 0, sizeof(*ctx))" },
				...m.context
					.filter((f) => f.init !== 0)
					.map((f): CStmt => ({ kind: "expr", text: `ctx->${n.field(f)} = ${f.type === "bool" ? "true" : f.init}` })),
				{ kind: "return", value: "0" },
			],
		});
	}
	// libcheck_async_func comes last, after the init function
	const last = checks.filter((c) => c.kind === "function" && c.name === "libcheck_async_func");
	sections.push({ items: [...checks.filter((c) => !last.includes(c)), ...init, ...last] });
	if (n.t.diagnostics.length > 0) throw new SpecError(n.t.diagnostics);
	const withBuf = m.maxDataLength > 0;
	const one = !n.multiState;
	return {
		path: n.t.file,
		summary: one
			? `${m.name} checker: ${m.description}.\n\nOne check sends ${(m.states[0] as CommandStateModel).command?.name ?? "its command"} and classifies the answer with rules tried in order; the first match wins.`
			: `${m.name} checker: ${m.description}.\n\nThe check is a state machine; each state sends one SCSI command, or decides from the context, and classifies the result with rules tried in order; the first match wins.`,
		systemIncludes: systemIncludes(m, n),
		localIncludes: [
			"checkers.h",
			...(withBuf ? ["debug.h"] : []),
			"sg_include.h",
			...(target.byteOrder === "unaligned" && (m.decoders.length > 0 || [...allocationSizes(m)].some((x) => x > 1)) ? ["unaligned.h"] : []),
			"sg_answer.h",
			"async_checker.h",
		],
		sections,
	};
}

/** The system headers the file's C uses, in upstream's order. */
function systemIncludes(m: CheckerModel, n: CheckerNames): string[] {
	const withBuf = m.maxDataLength > 0;
	const conditions = m.states.flatMap((s) => s.rules.flatMap((r) => r.conditions));
	const errnoNames = conditions.some((c) => c.fact.kind === "errno" && c.written.some((w) => w.symbol));
	const retries = m.states.some((s) => s.rules.some((r) => r.outcome.kind === "retry"));
	const bools = m.context.some((f) => f.type === "bool") || m.decoders.length > 0;
	const senseKeys = conditions.some((c) => c.fact.kind === "senseKey");
	const scsiNames = [...n.cdbSymbols.values()].some((s) => s.header === "scsi/scsi.h");
	return [
		...(errnoNames ? ["errno.h"] : []),
		...(m.decoders.length > 0 ? ["limits.h"] : []),
		...(n.multiState || retries || withBuf ? ["pthread.h"] : []),
		...(bools ? ["stdbool.h"] : []),
		...(withBuf ? ["stdlib.h"] : []),
		...(m.context.length > 0 || m.decoders.length > 0 ? ["string.h"] : []),
		...(withBuf ? ["sys/sysmacros.h"] : []),
		// dev_t of struct runner_data (0.15's async_checker.h leaves it to its includers)
		"sys/types.h",
		...(senseKeys || scsiNames ? ["scsi/scsi.h"] : []),
	];
}

function clampedFields(m: CheckerModel): Set<ContextFieldModel> {
	const out = new Set<ContextFieldModel>();
	const visit = (list: readonly AssignmentModel[]) => {
		for (const a of list) {
			const v = a.value;
			if (a.field.type !== "bool" && (v.kind === "const" ? v.value : v.max) > a.field.max) out.add(a.field);
		}
	};
	for (const s of m.states) {
		if (s.kind === "command") for (const st of s.decoder?.store ?? []) visit(st.assignments);
		for (const r of s.rules) {
			const o = r.outcome;
			visit(o.assignments);
			if (o.kind === "retry" && o.exhausted) visit(o.exhausted.assignments);
		}
	}
	return out;
}
