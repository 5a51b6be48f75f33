// A decoder's program (model/decoder-program.ts) → one static C function:
// decode_<name>(buf, len, size, inputs…, d). `len` is cut to `size` first;
// every read the model proved within the bytes received reads buf directly,
// a walk keeps its offset, end and next descriptor in 64 bits (no overflow
// however long a descriptor says it is). The interpreter
// (interp/decode.ts) runs the same program.
import type { DecoderBytesReadModel, DecoderExprModel, DecoderModel, DecoderStmtModel, DecoderVarModel } from "../model/types.ts";
import type { CItem, CStmt } from "./c-ir.ts";
import { hex, paramDecl, type CheckerNames, type DecoderNames } from "./checker-names.ts";
import { exprMax } from "../model/decoder-program.ts";
import { snakeCase } from "./names.ts";

const U32_MAX = 0xffffffff;

// C operator precedence, higher binds tighter
const PREC: Record<string, number> = {
	mul: 80,
	add: 70,
	shift: 65,
	lt: 60,
	le: 60,
	gt: 60,
	ge: 60,
	eq: 55,
	ne: 55,
	mask: 50,
	and: 40,
	or: 35,
	cond: 30,
};
const OPS: Record<string, string> = { add: "+", mul: "*", lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=", and: "&&", or: "||" };
const ASSOCIATIVE = new Set(["add", "mul", "and", "or"]);
const COMPARISONS = new Set(["lt", "le", "gt", "ge", "eq", "ne"]);

interface Printed {
	readonly text: string;
	/** The operator at the top ("atom" for a primary expression). */
	readonly op: string;
}

class DecoderLowering {
	readonly locals = new Map<DecoderVarModel, string>();
	readonly inputs: string[];
	readonly getBe: (size: number) => string;
	hasWalk = false;

	constructor(
		readonly n: CheckerNames,
		readonly d: DecoderModel,
		readonly dn: DecoderNames,
	) {
		const own = n.target.byteOrder === "own";
		this.getBe = (size) => `${own ? "get_be" : "get_unaligned_be"}${size * 8}`;
		const scope = n.t.scope(`local of ${dn.fn}()`);
		const origin = { what: "a parameter of a decoder function" };
		for (const p of ["buf", "len", "size", "d", "off", "end", "next"]) scope.claim(p, origin);
		this.inputs = d.inputs.map((i) => scope.claim(snakeCase(i.key), { what: `input '${i.key}' of decoder ${d.name}`, loc: n.m.loc }));
		for (const v of d.vars) this.locals.set(v, scope.claim(snakeCase(v.key), { what: `name '${v.key}' of decoder ${d.name}`, loc: n.m.loc }));
	}

	constant(v: number, asHex: boolean): string {
		if (v === U32_MAX) return "UINT_MAX";
		return asHex && v >= 10 ? hex(v) : String(v);
	}

	wrap(p: Printed, parent: string, side: "left" | "right" = "left"): string {
		if (p.op === "atom" || p.op === "not") return p.text;
		if (p.op === parent && ASSOCIATIVE.has(parent) && side === "left") return p.text;
		if (p.op === parent && ASSOCIATIVE.has(parent)) return p.text;
		// && inside ||, comparisons inside comparisons, any ?: : parentheses for the reader (and -Wparentheses)
		if (p.op === "cond" || (parent === "or" && p.op === "and") || (parent === "mask" && p.op === "shift") || (COMPARISONS.has(parent) && COMPARISONS.has(p.op))) return `(${p.text})`;
		return PREC[p.op] > PREC[parent] ? p.text : `(${p.text})`;
	}

	/** Where a bytes read starts: a pointer into buf. */
	bytesAt(r: DecoderBytesReadModel): string {
		const at = r.inWalk ? (r.at === 0 ? "off" : `off + ${r.at}`) : String(r.at);
		return r.inWalk || r.at !== 0 ? `buf + ${at}` : "buf";
	}

	expr(e: DecoderExprModel, asHex = false): Printed {
		switch (e.kind) {
			case "bytesCompare":
				return { text: `memcmp(${this.bytesAt(e.read)}, ${this.inputs[e.input.index]}, ${e.read.length}) ${e.op === "eq" ? "==" : "!="} 0`, op: e.op };
			case "const":
				return { text: this.constant(e.value, asHex), op: "atom" };
			case "received":
				return { text: "len", op: "atom" };
			case "allocated":
				return { text: "size", op: "atom" };
			case "var":
				return { text: this.locals.get(e.v)!, op: "atom" };
			case "input":
				return { text: this.inputs[e.index], op: "atom" };
			case "read": {
				const at = e.inWalk ? (e.at === 0 ? "off" : `off + ${e.at}`) : String(e.at);
				let p: Printed =
					e.size === 1
						? { text: `buf[${at}]`, op: "atom" }
						: { text: `${this.getBe(e.size)}(${e.inWalk || e.at !== 0 ? `buf + ${at}` : "buf"})`, op: "atom" };
				if (e.shift > 0) p = { text: `${this.wrap(p, "shift")} >> ${e.shift}`, op: "shift" };
				if (e.mask !== undefined) p = { text: `${this.wrap(p, "mask")} & ${this.constant(e.mask, true)}`, op: "mask" };
				return p;
			}
			case "not": {
				const a = this.expr(e.arg);
				return { text: `!${a.op === "atom" || a.op === "not" ? a.text : `(${a.text})`}`, op: "not" };
			}
			case "in": {
				const a = this.wrap(this.expr(e.arg), "eq");
				const terms = e.values.map((v) => `${a} == ${this.constant(v, true)}`);
				return terms.length === 1 ? { text: terms[0], op: "eq" } : { text: terms.join(" || "), op: "or" };
			}
			case "if": {
				const c = this.expr(e.cond);
				const t = this.expr(e.then, asHex);
				const f = this.expr(e.else, asHex);
				// a chain of ?: reads best without parentheses on its else side
				return { text: `${this.wrap(c, "cond")} ? ${this.wrap(t, "cond")} : ${f.op === "cond" ? f.text : this.wrap(f, "cond")}`, op: "cond" };
			}
			case "op": {
				if (e.op === "min" || e.op === "max") {
					const args = e.args.map((a) => this.expr(a, asHex));
					return args.reduce((acc, b) => {
						const x = this.wrap(acc, "cond");
						const y = this.wrap(b, "cond");
						const cmp = e.op === "min" ? "<" : ">";
						return { text: `${x} ${cmp} ${y} ? ${x} : ${y}`, op: "cond" };
					});
				}
				const h = COMPARISONS.has(e.op);
				const args = e.args.map((a) => this.expr(a, h));
				if (args.length === 1) return args[0];
				const sym = OPS[e.op];
				// a sum or product that may not fit in 32 bits is computed in 64
				if ((e.op === "add" || e.op === "mul") && exprMax(e) > U32_MAX && e.args.every((a) => exprMax(a) <= U32_MAX)) {
					const first = args[0];
					args[0] = { text: `(unsigned long long)${first.op === "atom" ? first.text : `(${first.text})`}`, op: "atom" };
				}
				return { text: args.map((a, i) => this.wrap(a, e.op, i === 0 ? "left" : "right")).join(` ${sym} `), op: e.op };
			}
		}
	}

	value(e: DecoderExprModel, boolTarget: boolean): string {
		if (boolTarget && e.kind === "const") return e.value ? "true" : "false";
		return this.expr(e).text;
	}

	cond(e: DecoderExprModel): string[] {
		if (e.kind === "op" && e.op === "and") return e.args.map((a) => this.wrap(this.expr(a), "and"));
		return [this.expr(e).text];
	}

	ret(outcome: number, fields: readonly { key: string; text: string; bytes?: DecoderBytesReadModel }[]): CStmt[] {
		return [
			{ kind: "expr", text: `d->outcome = ${this.dn.outcomes[outcome]}` },
			...fields.map((f): CStmt => {
				const member = `d->${this.dn.fields.get(f.key)!}`;
				return { kind: "expr", text: f.bytes ? `memcpy(${member}, ${this.bytesAt(f.bytes)}, ${f.bytes.length})` : `${member} = ${f.text}` };
			}),
			{ kind: "return" },
		];
	}

	stmts(list: readonly DecoderStmtModel[], walk?: { bodyChecked: boolean }): CStmt[] {
		return list.flatMap((s) => this.stmt(s, walk));
	}

	stmt(s: DecoderStmtModel, walk?: { bodyChecked: boolean }): CStmt[] {
		switch (s.kind) {
			case "need": {
				const cond = !s.inWalk
					? [`len < ${s.bytes}`]
					: walk?.bodyChecked
						? [`off + ${s.bytes} > next`]
						: [`off + ${s.bytes} > next || off + ${s.bytes} > end`];
				return [{ kind: "if", cond, then: this.ret(s.outcome.index, []) }];
			}
			case "ifReceived":
				return [{ kind: "if", cond: [`len >= ${s.bytes}`], then: this.stmts(s.then, walk), ...(s.else.length > 0 ? { else: this.stmts(s.else, walk) } : {}) }];
			case "set":
				if (this.declInit.has(s)) return [];
				return [{ kind: "expr", text: `${this.locals.get(s.v)!} = ${this.value(s.value, s.v.boolean)}` }];
			case "when":
				return [{ kind: "if", cond: this.cond(s.cond), then: this.stmts(s.then, walk), ...(s.else.length > 0 ? { else: this.stmts(s.else, walk) } : {}) }];
			case "return":
				return this.ret(
					s.outcome.index,
					s.fields.map((f) => (f.bytes ? { key: f.field.key, text: "", bytes: f.bytes } : { key: f.field.key, text: this.value(f.value, f.field.type === "bool") })),
				);
			case "break":
				return [{ kind: "break" }];
			case "walk": {
				this.hasWalk = true;
				const inner = { bodyChecked: s.bodyPast !== null };
				const loopVars = this.d.vars.filter((v) => v.inWalk);
				const body: CStmt[] = [
					...this.declsOf(loopVars),
					{ kind: "if", cond: [`off + ${s.header} > end`], then: this.stmts(s.headerPast, inner) },
					{ kind: "expr", text: `next = off + ${this.expr(s.length).text}` },
					...(s.bodyPast ? ([{ kind: "if", cond: ["next > end"], then: this.stmts(s.bodyPast, inner) }] as CStmt[]) : []),
					...this.stmts(s.each, inner),
					{ kind: "expr", text: "off = next" },
				];
				return [
					{ kind: "expr", text: `off = ${this.expr(s.from).text}` },
					{ kind: "expr", text: `end = ${this.expr(s.to).text}` },
					{ kind: "comment", text: "the walk stops at the bytes received" },
					{ kind: "if", cond: ["end > len"], then: [{ kind: "expr", text: "end = len" }] },
					{ kind: "while", cond: "off < end", body },
					...(s.overrun.length > 0 ? ([{ kind: "if", cond: ["off > end"], then: this.stmts(s.overrun) }] as CStmt[]) : []),
				];
			}
		}
	}

	/** Top-level vars with a constant initial value are initialised where they are declared. */
	readonly declInit = new Set<DecoderStmtModel>();

	ctype(v: DecoderVarModel): string {
		if (v.boolean) return "bool";
		return v.max <= U32_MAX ? "unsigned int" : "unsigned long long";
	}

	declsOf(vars: readonly DecoderVarModel[], inits = new Map<DecoderVarModel, string>()): CStmt[] {
		if (vars.length === 0) return [];
		const out: CStmt[] = vars.map((v) => ({ kind: "decl", decl: `${this.ctype(v)} ${this.locals.get(v)!}`, ...(inits.has(v) ? { init: inits.get(v)! } : {}) }));
		out.push({ kind: "blank" });
		return out;
	}

	fn(): CItem {
		const inits = new Map<DecoderVarModel, string>();
		for (const s of this.d.program) {
			if (s.kind === "set" && s.v.mutable && s.value.kind === "const") {
				inits.set(s.v, this.value(s.value, s.v.boolean));
				this.declInit.add(s);
			}
		}
		const body = this.stmts(this.d.program);
		// the function ends there anyway
		if (body.length > 0 && body[body.length - 1].kind === "return") body.pop();
		const top = this.d.vars.filter((v) => !v.inWalk);
		const decls = this.declsOf(top, inits);
		if (this.hasWalk) decls.splice(Math.max(0, decls.length - 1), 0, { kind: "decl", decl: "unsigned long long off, end, next" });
		if (decls.length > 0 && decls[decls.length - 1].kind !== "blank") decls.push({ kind: "blank" });
		return {
			kind: "function",
			doc: `${this.d.doc}.\n\nGenerated from the decoder's declaration: it reads only the len bytes received (at most size), and sets d->outcome to what it found or to what was wrong with the bytes.`,
			isStatic: true,
			returns: "void",
			name: this.dn.fn,
			params: [
				"const unsigned char *buf",
				"unsigned int len",
				"unsigned int size",
				...this.d.inputs.map((i, k) => paramDecl(i, this.inputs[k])),
				`struct ${this.dn.struct} *d`,
			],
			body: [
				...decls,
				{ kind: "expr", text: "memset(d, 0, sizeof(*d))" },
				{ kind: "if", cond: ["len > size"], then: [{ kind: "expr", text: "len = size" }] },
				...body,
			],
		};
	}
}

/** The C function of one decoder. */
export function decoderFunction(n: CheckerNames, d: DecoderModel, dn: DecoderNames): CItem {
	return new DecoderLowering(n, d, dn).fn();
}

/** Whether a decoder's C uses UINT_MAX (limits.h). */
export function usesUintMax(d: DecoderModel): boolean {
	const inExpr = (e: DecoderExprModel): boolean => {
		switch (e.kind) {
			case "const":
				return e.value === U32_MAX;
			case "op":
				return e.args.some(inExpr);
			case "not":
			case "in":
				return inExpr(e.arg);
			case "if":
				return inExpr(e.cond) || inExpr(e.then) || inExpr(e.else);
			default:
				return false;
		}
	};
	const inStmts = (l: readonly DecoderStmtModel[]): boolean =>
		l.some((s) => {
			switch (s.kind) {
				case "set":
					return inExpr(s.value);
				case "when":
					return inExpr(s.cond) || inStmts(s.then) || inStmts(s.else);
				case "ifReceived":
					return inStmts(s.then) || inStmts(s.else);
				case "return":
					return s.fields.some((f) => f.value !== undefined && inExpr(f.value));
				case "walk":
					return [s.from, s.to, s.length].some(inExpr) || inStmts(s.headerPast) || inStmts(s.bodyPast ?? []) || inStmts(s.each) || inStmts(s.overrun);
				default:
					return false;
			}
		});
	return inStmts(d.program);
}
