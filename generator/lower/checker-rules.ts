// A state's rule list in C: each rule's conditions as C terms, its outcome
// as statements, and a switch where consecutive rules test one field
// against three or more constants.
import type {
	AssignmentModel,
	BudgetModel,
	ConditionModel,
	FinalOutcomeModel,
	StateModel,
} from "../model/types.ts";
import { factKey } from "../model/types.ts";
import type { CCase, CStmt } from "./c-ir.ts";
import type { CheckerNames, DecoderNames } from "./checker-names.ts";
import { hex } from "./checker-names.ts";
import type { TestedRule } from "./conditions.ts";

/** Where a state's C finds things: the check struct of a step machine, or the locals of a one-state check. */
export interface StateEnv {
	readonly n: CheckerNames;
	readonly state: StateModel;
	readonly decoder?: DecoderNames;
	budget(b: BudgetModel): string;
	/** Statements that end the check with a report. */
	report(o: Extract<FinalOutcomeModel, { kind: "report" }>): CStmt[];
	/** The statement that moves to a state (a retry of this one, or a goto). */
	jump(target: StateModel): CStmt;
	/** The statement that ends the init (init states only). */
	done?(): CStmt;
}

/**
 * The C terms (joined with &&) that test a numeric value: the values
 * written (`==` … `||`, or `!=` … for a negated list), a bit test, or the
 * intervals allowed.
 */
function numericTerms(c: ConditionModel, name: string, fmt: (v: number) => string): string[] {
	const f = c.form;
	// unpadded: `(ans.driver_status & 0xf) == 0x8` keeps rdac's DRIVER_SENSE test within 80 columns
	if (f?.kind === "bits") return [`(${name} & ${hex(f.mask, 1)}) ${c.negated ? "!=" : "=="} ${hex(f.value, 1)}`];
	if (c.written.length > 0 && c.negated) return c.written.map((w) => `${name} != ${fmt(w.value)}`);
	if (c.written.length > 0 && f === undefined) return [c.written.map((w) => `${name} == ${fmt(w.value)}`).join(" || ")];
	const top = c.fact.domain[1];
	const one = ([lo, hi]: readonly [number, number]): string[] => {
		if (lo === hi) return [`${name} == ${fmt(lo)}`];
		if (lo === 0) return [`${name} <= ${fmt(hi)}`];
		if (hi === top) return [`${name} >= ${fmt(lo)}`];
		return [`${name} >= ${fmt(lo)}`, `${name} <= ${fmt(hi)}`];
	};
	if (c.allowed.length === 1) return one(c.allowed[0]);
	return [c.allowed.map((i) => { const t = one(i); return t.length > 1 ? `(${t.join(" && ")})` : t[0]; }).join(" || ")];
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
		case "driverStatus":
			return numericTerms(c, "ans.driver_status", (v) => hex(v));
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
			const field = env.n.ref(f.field);
			if (f.field.type === "bool") return [c.written[0].value ? field : `!${field}`];
			return numericTerms(c, field, (v) => String(v));
		}
		case "dataOutcome":
			return any(c.written.map((w) => `d.outcome == ${env.decoder!.outcomes[w.value]}`));
		case "dataField": {
			const name = `d.${env.decoder!.fields.get(f.field.key)!}`;
			if (f.field.type === "bool") return [c.written[0].value ? name : `!${name}`];
			return numericTerms(c, name, (v) => hex(v));
		}
	}
}

/** The switch expression and case label for a condition a switch can test. */
function switchOn(c: ConditionModel, env: StateEnv): { on: string; label: (v: number, symbol?: string) => string } | undefined {
	if (c.negated || c.written.length !== 1 || c.form !== undefined) return undefined;
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
			return f.field.type === "bool" ? undefined : { on: env.n.ref(f.field), label: (v) => String(v) };
		default:
			return undefined;
	}
}

export function assignments(list: readonly AssignmentModel[], env: StateEnv): CStmt[] {
	return list.flatMap((a): CStmt[] => {
		const target = env.n.ref(a.field);
		const v = a.value;
		// a bytes field is copied whole
		if (v.kind === "dataBytes" || v.kind === "contextBytes") {
			const src = v.kind === "contextBytes" ? `ctx->${env.n.field(v.field)}` : `d.${env.decoder!.fields.get(v.field.key)!}`;
			return [{ kind: "expr", text: `memcpy(${target}, ${src}, sizeof(${target}))` }];
		}
		const expr =
			v.kind === "const"
				? a.field.type === "bool"
					? v.value
						? "true"
						: "false"
					: String(v.value)
				: v.kind === "context"
					? env.n.ref(v.field)
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
	if (o.kind !== "report" && o.log !== undefined) {
		const devt = env.n.multiState ? "ck->rdata->devt" : "rdata->devt";
		stores.push({ kind: "expr", text: `condlog(3, "%d:%d : ${env.n.m.name} checker: ${o.log}", major(${devt}), minor(${devt}))` });
	}
	if (o.kind === "done") return [...stores, env.done!()];
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
export function ruleList(trs: readonly TestedRule[], env: StateEnv, skip: ReadonlySet<string>): CStmt[] {
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

