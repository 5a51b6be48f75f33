// Checker model → the view the checker template lays out. Every decision
// about the C (names, conditions, statements, which helpers are needed) is
// made here; templates/checker.c.hbs only places the pieces.
import { SENSE_KEY } from "../spec/vocabulary.ts";
import { HOST_STATUS, ERRNO, nameOf } from "../spec/vocabulary.ts";
import type {
	AssignmentModel,
	CheckerModel,
	CommandModel,
	ConditionModel,
	FinalOutcomeModel,
	RuleModel,
	StateModel,
} from "../model/types.ts";
import { comment, cString, hex, ifCondition, indent, joinWrapped, width, COLUMN_LIMIT } from "./c-writer.ts";
import { decoderView, type DecoderView } from "./decoder-view.ts";

export interface CheckerView {
	name: string;
	description: string;
	prefix: string;
	macroPrefix: string;
	hasMessages: boolean;
	messageEnum: string[];
	messageTable: string[];
	budgets: string[];
	hasContext: boolean;
	contextStruct: string[];
	contextLimits: string[];
	contextInit: string[];
	checkStruct: string[];
	steps: string[];
	includes: string[];
	localIncludes: string[];
	senseLengthMacro: string;
	usesDataBuffer: boolean;
	dataBufferMacro: string;
	maxDataLength: number;
	decoders: DecoderView[];
	stateFunctions: string[][];
	dispatch: string[];
	/** Whether the big-endian readers the decoders use are needed. */
	usesDecoders: boolean;
	initialStep: string;
	doneStep: string;
	stepEnum: string;
	checkStructName: string;
	reportFn: string;
	reportSignature: string[];
}

const SENSE_KEY_C: Record<number, string> = Object.fromEntries(
	Object.entries(SENSE_KEY).map(([k, v]) => [v, k]),
);

function values(c: ConditionModel): number[] {
	return [...c.written];
}

/** One C expression per condition. `a` is the answer, `ctx` the context, `d` the decoded data. */
/** The C names of context and decoded fields, as the model and decoder view give them. */
interface FieldNames {
	context(key: string): string;
	data(key: string): string;
}

function conditionTerms(c: ConditionModel, decoder: DecoderView | undefined, names: FieldNames): string[] {
	const any = (exprs: string[]) => [exprs.join(" || ")];
	switch (c.fact.kind) {
		case "errno": {
			if (c.implied || (c.allowed.length === 1 && c.allowed[0][0] === 0 && c.allowed[0][1] === 0)) {
				return ["ans.err == 0"];
			}
			if (c.written.length === 0) return ["ans.err != 0"];
			return any(values(c).map((v) => `ans.err == ${String(nameOf(ERRNO, v) ?? v)}`));
		}
		case "status":
			return any(values(c).map((v) => `(ans.status & 0x7e) == ${hex(v)}`));
		case "sgInfo":
			return [c.allowed[0][0] === 0 ? "(ans.info & SG_INFO_OK_MASK) == SG_INFO_OK" : "(ans.info & SG_INFO_OK_MASK) != SG_INFO_OK"];
		case "hostStatus": {
			const names = values(c).map((v) => String(nameOf(HOST_STATUS, v) ?? hex(v)));
			return c.negated ? names.map((n) => `ans.host_status != ${n}`) : any(names.map((n) => `ans.host_status == ${n}`));
		}
		case "senseKey":
			return any(values(c).map((v) => `ans.sense_key == ${SENSE_KEY_C[v] ?? hex(v)}`));
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
			const field = `ctx->${names.context(c.fact.name!)}`;
			if (c.fact.domain[1] === 1 && c.written.length === 1) return [c.written[0] ? field : `!${field}`];
			return any(values(c).map((v) => `${field} == ${v}`));
		}
		case "dataOutcome":
			return any(values(c).map((v) => `d.outcome == ${decoder!.outcomeConstants[v]}`));
		case "dataField": {
			const f = decoder!.fieldByKey[c.fact.name!];
			if (f.type === "bool") return [c.written[0] ? `d.${f.cName}` : `!d.${f.cName}`];
			return any(values(c).map((v) => `d.${f.cName} == ${hex(v)}`));
		}
	}
}

/** Whether an assignment must clamp its value to the field's max. */
function clamps(a: AssignmentModel): boolean {
	const v = a.value;
	return a.field.type !== "bool" && (v.kind === "const" ? v.value : v.max) > a.field.max;
}

function assignmentLines(assignments: AssignmentModel[], level: number, names: FieldNames): string[] {
	const ind = indent(level);
	return assignments.flatMap((a) => {
		const target = `ctx->${a.field.cName}`;
		const v = a.value;
		const expr =
			v.kind === "const"
				? a.field.type === "bool"
					? v.value
						? "true"
						: "false"
					: String(v.value)
				: v.kind === "context"
					? `ctx->${names.context(v.field)}`
					: `d.${names.data(v.field)}`;
		// a store never exceeds the field's max: larger values are clamped
		if (!clamps(a)) return [`${ind}${target} = ${expr};`];
		const max = a.field.maxMacro;
		return [`${ind}if (${expr} > ${max})`, `${ind}\t${target} = ${max};`, `${ind}else`, `${ind}\t${target} = ${expr};`];
	});
}

class CheckerEmitter {
	readonly m: CheckerModel;
	readonly reportFn: string;
	readonly doneStep: string;

	constructor(m: CheckerModel) {
		this.m = m;
		this.reportFn = "report";
		this.doneStep = `${m.cMacroPrefix}_STEP_DONE`;
	}

	stepOf(key: string): string {
		return this.m.states.find((s) => s.key === key)!.stepName;
	}

	/** Statements of a final outcome, ending in a return. */
	/** Field names for C; decoded fields only where the state has a decoder. */
	names(decoder: DecoderView | undefined): FieldNames {
		return {
			context: (key) => this.m.context.find((f) => f.key === key)!.cName,
			data: (key) => decoder!.fieldByKey[key].cName,
		};
	}

	finalLines(o: FinalOutcomeModel, level: number, names: FieldNames): string[] {
		const lines = assignmentLines(o.assignments, level, names);
		if (o.kind === "report") {
			const call = `${indent(level)}return ${this.reportFn}(chk, ${o.pathState.name}, ${o.message.cName});`;
			// too long for a line: the report spelt out
			if (width(call) <= COLUMN_LIMIT) lines.push(call);
			else {
				lines.push(
					`${indent(level)}chk->state = ${o.pathState.name};`,
					`${indent(level)}chk->msgid = ${o.message.cName};`,
					`${indent(level)}return ${this.doneStep};`,
				);
			}
		} else lines.push(`${indent(level)}return ${this.stepOf(o.target)};`);
		return lines;
	}

	ruleLines(rule: RuleModel, decoder: DecoderView | undefined, level: number): string[] {
		const out: string[] = [];
		if (rule.doc) out.push(...comment(rule.doc, level));
		const names = this.names(decoder);
		const terms = rule.emittedConditions.flatMap((c) => conditionTerms(c, decoder, names));
		const o = rule.outcome;
		const budgetTest =
			o.kind === "retry" ? `chk->${o.budget.cName} < ${o.budget.cMacro}` : undefined;
		let body: string[];
		let condTerms = terms;
		if (o.kind === "retry") {
			const retry = [
				`${indent(level + 1)}chk->${o.budget.cName}++;`,
				...assignmentLines(o.assignments, level + 1, names),
				`${indent(level + 1)}return ${this.stepOf(o.target)};`,
			];
			if (o.exhausted === null) {
				condTerms = [...terms, budgetTest!];
				body = retry;
			} else {
				body = [
					...ifCondition([budgetTest!], level + 1).map((l, i, all) => (i === all.length - 1 ? `${l} {` : l)),
					...retry.map((l) => `\t${l}`),
					`${indent(level + 1)}}`,
					...this.finalLines(o.exhausted, level + 1, names),
				];
			}
		} else body = this.finalLines(o, level + 1, names);
		if (condTerms.length === 0) {
			// an unconditional rule: its statements stand on their own
			return [...out, ...body.map((l) => l.slice(1))];
		}
		const head = ifCondition(condTerms, level);
		if (body.length === 1) return [...out, ...head, ...body];
		head[head.length - 1] += " {";
		return [...out, ...head, ...body, `${indent(level)}}`];
	}

	commandLines(cmd: CommandModel): { decls: string[]; setup: string[] } {
		const constLength = cmd.dataLength.kind === "const" ? cmd.dataLength.value : undefined;
		// the initialiser holds every byte known before the check runs
		const init = cmd.cdb.map((b) => {
			if (b.kind === "const") return b.value;
			if (b.kind === "context") return b.ifClear;
			return constLength === undefined ? 0 : (constLength >> b.shift) & 0xff;
		});
		const bytes = init.map((v) => hex(v));
		const decls: string[] = [];
		const one = `\tunsigned char cdb[${cmd.cdb.length}] = { ${bytes.join(", ")} };`;
		if (width(one) <= COLUMN_LIMIT) decls.push(one);
		else decls.push(`\tunsigned char cdb[${cmd.cdb.length}] = {`, ...joinWrapped("\t\t", bytes, ",", "", 16), "\t};");
		if (cmd.dataLength.kind === "context") decls.push(`\tunsigned int len = ctx->${cmd.dataLength.field.cName};`);
		const setup: string[] = [];
		cmd.cdb.forEach((b, i) => {
			if (b.kind === "context") setup.push(`\tif (ctx->${b.field.cName})`, `\t\tcdb[${i}] = ${hex(b.ifSet)};`);
			if (b.kind === "allocationLength" && constLength === undefined) {
				setup.push(`\tcdb[${i}] = ${b.shift === 0 ? "len" : `(len >> ${b.shift})`} & 0xff;`);
			}
		});
		return { decls, setup };
	}

	stateFunction(s: StateModel): string[] {
		const dec = s.decoder ? decoderView(s.decoder) : undefined;
		const lines: string[] = [];
		const title = s.kind === "command" ? `State "${s.key}": ${s.command!.name}.` : `State "${s.key}": decide from the context.`;
		lines.push(...comment(s.doc ? `${title}\n\n${s.doc}` : title, 0));
		lines.push(`static enum ${this.m.cPrefix}_step ${s.fnName}(struct ${this.m.cPrefix}_check *chk)`);
		lines.push("{");
		const usesCtx =
			this.m.context.length > 0 &&
			(s.kind === "decision" ||
				s.rules.some((r) => r.conditions.some((c) => c.fact.kind === "context") || this.assigns(r)) ||
				(s.command && (s.command.dataLength.kind === "context" || s.command.cdb.some((b) => b.kind === "context"))) ||
				(s.decoder && (s.decoder.inputs.length > 0 || s.decoder.store.length > 0)));
		if (usesCtx) lines.push(`\tstruct ${this.m.cPrefix}_context *ctx = chk->ctx;`);
		if (s.kind === "command") {
			const cmd = s.command!;
			const { decls, setup } = this.commandLines(cmd);
			lines.push(...decls);
			lines.push("\tstruct sg_answer ans;");
			if (dec) lines.push(`\tstruct ${dec.resultStruct} d;`);
			lines.push("");
			lines.push(...setup);
			const buf = cmd.direction === "none" ? "NULL" : "chk->buf";
			const len = cmd.dataLength.kind === "context" ? "len" : String(cmd.dataLength.value);
			lines.push(...joinWrapped("\tsg_send(", ["chk->rdata", "cdb", "sizeof(cdb)", cmd.dxferCName, buf, len, "&ans"], ",", ");", width("\tsg_send(")));
			if (dec) {
				lines.push("\tif (ans.err == 0 && (ans.info & SG_INFO_OK_MASK) == SG_INFO_OK)");
				const args = ["chk->buf", "ans.transferred", len, ...dec.inputArgs, "&d"];
				lines.push(...joinWrapped(`\t\t${dec.fn}(`, args, ",", ");", width(`\t\t${dec.fn}(`)));
				lines.push("\telse");
				lines.push(`\t\td.outcome = ${dec.notDecoded};`);
				for (const st of s.decoder!.store) {
					const o = dec.outcomeConstants[s.decoder!.outcomes.find((x) => x.key === st.outcome)!.index];
					const body = assignmentLines(st.assignments, 2, this.names(dec));
					lines.push(`\tif (d.outcome == ${o})${body.length > 1 ? " {" : ""}`, ...body);
					if (body.length > 1) lines.push("\t}");
				}
			}
		} else if (usesCtx) lines.push("");
		for (const r of s.rules) lines.push(...this.ruleLines(r, dec, 1));
		lines.push("}");
		return lines;
	}

	assigns(r: RuleModel): boolean {
		const o = r.outcome;
		if (o.assignments.length > 0) return true;
		return o.kind === "retry" && o.exhausted !== null && o.exhausted.assignments.length > 0;
	}
}

export function checkerView(m: CheckerModel): CheckerView {
	const e = new CheckerEmitter(m);
	const p = m.cPrefix;
	const P = m.cMacroPrefix;
	const messageEnum: string[] = [];
	const messageTable: string[] = [];
	m.messages.forEach((msg, i) => {
		if (msg.doc) messageEnum.push(...comment(msg.doc, 1));
		messageEnum.push(i === 0 ? `\t${msg.cName} = CHECKER_FIRST_MSGID,` : `\t${msg.cName},`);
		messageTable.push(`\t[IDX_(${msg.cName})] = ${cString(msg.text)},`);
	});
	const budgets = m.budgets.flatMap((b) => [...(b.doc ? comment(b.doc, 0) : []), `#define ${b.cMacro} ${b.maxRetries}`]);
	const contextStruct = m.context.flatMap((f) => [...(f.doc ? comment(f.doc, 1) : []), `\t${f.cType} ${f.cName};`]);
	// the bounds a spec gives numeric fields, for the stores that clamp
	const allAssignments = m.states.flatMap((s) => [
		...(s.decoder?.store.flatMap((st) => st.assignments) ?? []),
		...s.rules.flatMap((r) => {
			const o = r.outcome;
			return [...o.assignments, ...(o.kind === "retry" && o.exhausted ? o.exhausted.assignments : [])];
		}),
	]);
	const clamped = new Set(allAssignments.filter(clamps).map((a) => a.field.key));
	const contextLimits = m.context
		.filter((f) => clamped.has(f.key) && f.maxMacro !== String(f.max))
		.map((f) => `#define ${f.maxMacro} ${f.max}`);
	const contextInit = m.context
		.filter((f) => f.init !== 0)
		.map((f) => `\tctx->${f.cName} = ${f.type === "bool" ? "true" : f.init};`);
	const checkStruct = [
		"\tstruct runner_data *rdata;",
		...(m.context.length > 0 ? [`\tstruct ${p}_context *ctx;`] : []),
		...(m.usesDataBuffer ? ["\t/* the data buffer of every command */", "\tunsigned char *buf;"] : []),
		...m.budgets.map((b) => `\tunsigned int ${b.cName};`),
		"\tint state;",
		"\tshort msgid;",
	];
	const includes = [
		"errno.h",
		"limits.h",
		"pthread.h",
		"stdbool.h",
		...(m.usesDataBuffer ? ["stdlib.h"] : []),
		"string.h",
		"sys/ioctl.h",
		...(m.usesDataBuffer ? ["sys/sysmacros.h"] : []),
		"scsi/scsi.h",
	];
	const dispatch = m.states.flatMap((s) => [`\t\tcase ${s.stepName}:`, `\t\t\tstep = ${s.fnName}(&chk);`, "\t\t\tbreak;"]);
	dispatch.push(`\t\tcase ${e.doneStep}:`, "\t\t\tbreak;");
	const reportSignature = joinWrapped(
		`static enum ${p}_step ${e.reportFn}(`,
		[`struct ${p}_check *chk`, "int state", "short msgid"],
		",",
		")",
		width(`static enum ${p}_step ${e.reportFn}(`),
	);
	return {
		name: m.name,
		description: m.description,
		prefix: p,
		macroPrefix: P,
		hasMessages: m.messages.length > 0,
		messageEnum,
		messageTable,
		budgets,
		hasContext: m.context.length > 0,
		contextStruct,
		contextLimits,
		contextInit,
		checkStruct,
		steps: [...m.states.map((s) => `\t${s.stepName},`), `\t${e.doneStep},`],
		includes,
		localIncludes: ["checkers.h", "debug.h", "sg_include.h", "async_checker.h"],
		senseLengthMacro: `${P}_SENSE_LEN`,
		usesDataBuffer: m.usesDataBuffer,
		dataBufferMacro: `${P}_DATA_LEN`,
		maxDataLength: m.maxDataLength,
		decoders: m.decoders.map((d) => decoderView(m.states.find((s) => s.decoder?.name === d)!.decoder!)),
		stateFunctions: m.states.map((s) => e.stateFunction(s)),
		dispatch,
		usesDecoders: m.decoders.length > 0,
		initialStep: e.stepOf(m.initial),
		doneStep: e.doneStep,
		stepEnum: `${p}_step`,
		checkStructName: `${p}_check`,
		reportFn: e.reportFn,
		reportSignature,
	};
}
