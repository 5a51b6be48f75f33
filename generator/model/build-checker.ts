// Turns an evaluated checker spec into the validated CheckerModel, or
// rejects it with every problem found, each located in the spec source.
// The spec's TypeScript types already catch most mistakes in the editor;
// everything is checked again here because types can be bypassed.
import { ABI_015_DETAILS, abiProfile, type AbiProfile } from "../abi/profiles.ts";
import { DECODERS, type DecoderInfo } from "../spec/decoders.ts";
import {
	DXFER,
	ERRNO,
	HOST_STATUS,
	MAX_ERRNO,
	SCSI_STATUS,
	SENSE_BUFFER_LENGTH,
	SENSE_KEY,
} from "../spec/vocabulary.ts";
import type { CheckerSpec } from "../spec/checker.ts";
import { SpecError, type Diagnostic } from "./diagnostics.ts";
import {
	complement,
	contains,
	fromValues,
	intersect,
	isEmpty,
	isSubset,
	union,
	type Interval,
	type IntervalSet,
} from "./intervals.ts";
import { C_RESERVED, CHECKER_NAME, macroCase, snakeCase, SPEC_IDENTIFIER } from "./names.ts";
import type { SourceIndex, ValuePath } from "./source-index.ts";
import type {
	AssignedValueModel,
	AssignmentModel,
	BudgetModel,
	CdbByteModel,
	CheckerModel,
	CommandModel,
	ConditionModel,
	ContextFieldModel,
	DecoderUseModel,
	FactKind,
	FactRef,
	FinalOutcomeModel,
	MessageModel,
	MessageRef,
	OutcomeModel,
	RuleModel,
	StateModel,
} from "./types.ts";

/** The most checker-specific messages a msgtable can hold. */
export const MAX_CHECKER_MESSAGES = 100;
/** The longest checker name multipathd stores (char name[16]). */
export const MAX_CHECKER_NAME = ABI_015_DETAILS.checkerNameLength - 1;

const FIELD_TYPES = {
	bool: { cType: "bool", size: 1, max: 1 },
	u8: { cType: "unsigned char", size: 1, max: 0xff },
	u16: { cType: "unsigned short", size: 2, max: 0xffff },
	u32: { cType: "unsigned int", size: 4, max: 0xffffffff },
} as const;
type FieldType = keyof typeof FIELD_TYPES;

const DOMAINS: Record<Exclude<FactKind, "context" | "dataField" | "dataOutcome">, Interval> = {
	errno: [0, MAX_ERRNO],
	status: [0, 0x7e],
	sgInfo: [0, 1],
	hostStatus: [0, 0xffff],
	senseKey: [0, 0xf],
	senseCode: [0, 0xffff],
};

const WHEN_KEYS = ["errno", "status", "sgInfo", "hostStatus", "sense", "context", "data"];

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asList<T>(v: T | readonly T[]): readonly T[] {
	return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

class Builder {
	readonly diagnostics: Diagnostic[] = [];
	readonly index: SourceIndex;

	constructor(index: SourceIndex) {
		this.index = index;
	}

	error(path: ValuePath, message: string): void {
		this.diagnostics.push({ loc: this.index.locate(path), severity: "error", message });
	}

	doc(path: ValuePath, explicit?: unknown): string | undefined {
		if (typeof explicit === "string" && explicit.trim() !== "") return explicit.trim();
		return this.index.doc(path);
	}

	/** Reports keys of `obj` not in `allowed`. */
	onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], path: ValuePath, what: string): void {
		for (const k of Object.keys(obj)) {
			if (!allowed.includes(k)) {
				this.error([...path, k], `unknown ${what} '${k}' (expected one of: ${allowed.join(", ")})`);
			}
		}
	}
}

interface BuildContext {
	b: Builder;
	spec: CheckerSpec;
	profiles: AbiProfile[];
	prefix: string;
	macroPrefix: string;
	messages: Map<string, MessageModel>;
	budgets: Map<string, BudgetModel>;
	context: Map<string, ContextFieldModel>;
	stateKeys: Set<string>;
	used: { messages: Set<string>; budgets: Set<string>; fields: Set<string> };
}

function checkIdentifier(b: Builder, key: string, path: ValuePath, what: string): boolean {
	if (!SPEC_IDENTIFIER.test(key)) {
		b.error(path, `${what} name '${key}' must be a camelCase identifier (letters and digits, starting lower-case)`);
		return false;
	}
	return true;
}

/** Finds different spec names that become the same C name. */
function checkUniqueCNames(b: Builder, entries: { key: string; cName: string; path: ValuePath }[], what: string): void {
	const seen = new Map<string, string>();
	for (const e of entries) {
		const prev = seen.get(e.cName);
		if (prev !== undefined) {
			b.error(e.path, `duplicate ${what} name: '${e.key}' and '${prev}' both become ${e.cName} in C`);
		} else seen.set(e.cName, e.key);
		if (C_RESERVED.has(e.cName)) b.error(e.path, `${what} name '${e.key}' is a C keyword`);
	}
}

function buildMessages(cx: BuildContext): void {
	const { b, spec } = cx;
	const entries = Object.entries(spec.messages ?? {});
	if (entries.length > MAX_CHECKER_MESSAGES) {
		b.error(
			["messages"],
			`${entries.length} checker messages: a msgtable holds at most ${MAX_CHECKER_MESSAGES} (CHECKER_MSGTABLE_SIZE)`,
		);
	}
	const generic = new Set(cx.profiles.flatMap((p) => p.genericMessages.map(([n]) => n)));
	const names: { key: string; cName: string; path: ValuePath }[] = [];
	entries.forEach(([key, m], i) => {
		const path = ["messages", key];
		if (!checkIdentifier(b, key, path, "message")) return;
		if (generic.has(key)) b.error(path, `message '${key}' has the name of a generic message ID`);
		if (!isRecord(m) || typeof m.text !== "string") {
			b.error(path, `message '${key}' needs a text: { text: " reports …" }`);
			return;
		}
		b.onlyKeys(m, ["text", "doc"], path, "message property");
		if (!/^[ :]/.test(m.text)) {
			b.error([...path, "text"], `message text must start with a space or a colon (it follows "${spec.name} checker")`);
		}
		if (/["\\\n]/.test(m.text)) b.error([...path, "text"], "message text must not contain quotes, backslashes or newlines");
		const cName = `MSG_${cx.macroPrefix}_${macroCase(key)}`;
		names.push({ key, cName, path });
		cx.messages.set(key, {
			key,
			cName,
			id: cx.profiles[0].firstMessageId + i,
			text: m.text,
			doc: b.doc(path, m.doc),
			loc: b.index.locate(path),
		});
	});
	checkUniqueCNames(b, names, "message");
}

function buildBudgets(cx: BuildContext): void {
	const { b, spec } = cx;
	const names: { key: string; cName: string; path: ValuePath }[] = [];
	for (const [key, budget] of Object.entries(spec.retryBudgets ?? {})) {
		const path = ["retryBudgets", key];
		if (!checkIdentifier(b, key, path, "retry budget")) continue;
		if (!isRecord(budget) || !Number.isInteger(budget.maxRetries)) {
			b.error(path, `retry budget '${key}' needs an integer maxRetries`);
			continue;
		}
		b.onlyKeys(budget, ["maxRetries", "doc"], path, "retry budget property");
		const max = budget.maxRetries as number;
		if (max < 1 || max > 100) b.error([...path, "maxRetries"], `retry budget '${key}': maxRetries must be 1..100, not ${max}`);
		const cName = `${snakeCase(key)}_retries`;
		names.push({ key, cName, path });
		cx.budgets.set(key, {
			key,
			cName,
			cMacro: `${cx.macroPrefix}_${macroCase(key)}_MAX_RETRIES`,
			maxRetries: max,
			doc: b.doc(path, budget.doc),
		});
	}
	checkUniqueCNames(b, names, "retry budget");
}

function buildContext(cx: BuildContext): number {
	const { b, spec } = cx;
	const names: { key: string; cName: string; path: ValuePath }[] = [];
	let offset = 0;
	let align = 1;
	for (const [key, f] of Object.entries(spec.context ?? {})) {
		const path = ["context", key];
		if (!checkIdentifier(b, key, path, "context field")) continue;
		if (!isRecord(f) || typeof f.type !== "string" || !(f.type in FIELD_TYPES)) {
			b.error(path, `context field '${key}' needs a type: one of ${Object.keys(FIELD_TYPES).join(", ")}`);
			continue;
		}
		b.onlyKeys(f, ["type", "init", "max", "doc"], path, "context field property");
		const type = f.type as FieldType;
		const t = FIELD_TYPES[type];
		let max: number = t.max;
		if (f.max !== undefined) {
			if (type === "bool") b.error([...path, "max"], `context field '${key}': a bool has no max`);
			else if (!Number.isInteger(f.max) || (f.max as number) < 1 || (f.max as number) > t.max) {
				b.error([...path, "max"], `context field '${key}': max must be an integer in 1..${t.max}`);
			} else max = f.max as number;
		}
		let init = 0;
		if (f.init !== undefined) {
			if (type === "bool") {
				if (typeof f.init !== "boolean") b.error([...path, "init"], `context field '${key}': init must be true or false`);
				else init = f.init ? 1 : 0;
			} else if (!Number.isInteger(f.init) || (f.init as number) < 0 || (f.init as number) > max) {
				b.error([...path, "init"], `context field '${key}': init must be an integer in 0..${max}`);
			} else init = f.init as number;
		}
		offset = Math.ceil(offset / t.size) * t.size + t.size;
		align = Math.max(align, t.size);
		const cName = snakeCase(key);
		names.push({ key, cName, path });
		const maxMacro = f.max !== undefined && type !== "bool" ? `${cx.macroPrefix}_${macroCase(key)}_MAX` : String(max);
		cx.context.set(key, { key, cName, type, cType: t.cType, init, max, maxMacro, doc: b.doc(path, f.doc) });
	}
	checkUniqueCNames(b, names, "context field");
	const size = Math.ceil(offset / align) * align;
	if (size > ABI_015_DETAILS.maxContextSize) {
		b.error(["context"], `the context takes ${size} bytes; at most ${ABI_015_DETAILS.maxContextSize} are allowed`);
	}
	return size;
}

function parseSenseCode(b: Builder, code: unknown, path: ValuePath): IntervalSet | undefined {
	const m = typeof code === "string" ? /^([0-9A-Fa-f]{2})\/([0-9A-Fa-f]{2}|\*)$/.exec(code) : null;
	if (!m) {
		b.error(path, `sense code ${JSON.stringify(code)} must be "ASC/ASCQ" in hex, e.g. "04/0B", or "29/*" for any ASCQ`);
		return undefined;
	}
	const asc = parseInt(m[1], 16);
	if (m[2] === "*") return [[asc << 8, (asc << 8) | 0xff]];
	return [[(asc << 8) | parseInt(m[2], 16), (asc << 8) | parseInt(m[2], 16)]];
}

function namedValues(
	b: Builder,
	table: Record<string, number>,
	raw: unknown,
	path: ValuePath,
	what: string,
): number[] | undefined {
	const out: number[] = [];
	for (const n of asList(raw as string | string[])) {
		if (typeof n !== "string" || !(n in table)) {
			b.error(path, `unknown ${what} ${JSON.stringify(n)} (known: ${Object.keys(table).join(", ")})`);
			return undefined;
		}
		out.push(table[n]);
	}
	if (out.length === 0) {
		b.error(path, `empty ${what} list`);
		return undefined;
	}
	return out;
}

function fieldDomain(type: FieldType, max?: number): Interval {
	return [0, max ?? FIELD_TYPES[type].max];
}

interface DecoderCx {
	name: string;
	info: DecoderInfo;
	outcomeKeys: string[];
}

function condition(
	fact: FactRef,
	allowed: IntervalSet,
	written: number[],
	negated = false,
	implied = false,
): ConditionModel {
	return { fact, allowed, written, negated, implied };
}

/** Parses one rule's `when` into conditions (written and implied), one per fact. */
function parseWhen(
	cx: BuildContext,
	when: unknown,
	path: ValuePath,
	decoder: DecoderCx | undefined,
	decision: boolean,
): ConditionModel[] | undefined {
	const { b } = cx;
	if (when === undefined) return [];
	if (!isRecord(when)) {
		b.error(path, "`when` must be an object of facts");
		return undefined;
	}
	const allowedKeys = decision ? ["context"] : WHEN_KEYS;
	b.onlyKeys(when, allowedKeys, path, decision ? "fact for a decision (only context)" : "fact");
	const conds: ConditionModel[] = [];
	let ok = true;
	const fact = (kind: Exclude<FactKind, "context" | "dataField" | "dataOutcome">): FactRef => ({
		kind,
		domain: DOMAINS[kind],
	});
	if (when.errno !== undefined) {
		if (when.errno === "any") conds.push(condition(fact("errno"), [[1, MAX_ERRNO]], []));
		else {
			const v = namedValues(b, ERRNO, when.errno, [...path, "errno"], "errno");
			if (v) conds.push(condition(fact("errno"), fromValues(v), v));
			else ok = false;
		}
	}
	if (when.status !== undefined) {
		const v = namedValues(b, SCSI_STATUS, when.status, [...path, "status"], "SCSI status");
		if (v) conds.push(condition(fact("status"), fromValues(v), v));
		else ok = false;
	}
	if (when.sgInfo !== undefined) {
		if (when.sgInfo === "ok") conds.push(condition(fact("sgInfo"), [[0, 0]], [0]));
		else if (when.sgInfo === "check") conds.push(condition(fact("sgInfo"), [[1, 1]], [1]));
		else {
			b.error([...path, "sgInfo"], `sgInfo must be "ok" or "check", not ${JSON.stringify(when.sgInfo)}`);
			ok = false;
		}
	}
	if (when.hostStatus !== undefined) {
		const hs = when.hostStatus;
		const negated = isRecord(hs) && "not" in hs;
		const v = namedValues(b, HOST_STATUS, negated ? hs.not : hs, [...path, "hostStatus"], "host status");
		if (v) {
			const set = fromValues(v);
			conds.push(condition(fact("hostStatus"), negated ? complement(set, DOMAINS.hostStatus) : set, v, negated));
		} else ok = false;
	}
	if (when.sense !== undefined) {
		const s = when.sense;
		if (!isRecord(s) || (s.key === undefined && s.code === undefined)) {
			b.error([...path, "sense"], "sense needs a key and/or a code: { key: \"NOT_READY\", code: \"04/0B\" }");
			ok = false;
		} else {
			b.onlyKeys(s, ["key", "code"], [...path, "sense"], "sense property");
			if (s.key !== undefined) {
				const v = namedValues(b, SENSE_KEY, s.key, [...path, "sense", "key"], "sense key");
				if (v) conds.push(condition(fact("senseKey"), fromValues(v), v));
				else ok = false;
			}
			if (s.code !== undefined) {
				let set: IntervalSet = [];
				for (const c of asList(s.code)) {
					const r = parseSenseCode(b, c, [...path, "sense", "code"]);
					if (!r) ok = false;
					else set = union(set, r);
				}
				// C is written from the intervals: one per exact code or per ASC
				conds.push(condition(fact("senseCode"), set, []));
			}
		}
	}
	if (when.context !== undefined) {
		if (!isRecord(when.context)) {
			b.error([...path, "context"], "context must map field names to values");
			ok = false;
		} else {
			for (const [key, raw] of Object.entries(when.context)) {
				const fpath = [...path, "context", key];
				const f = cx.context.get(key);
				if (!f) {
					b.error(fpath, `unknown context field '${key}'`);
					ok = false;
					continue;
				}
				cx.used.fields.add(key);
				const v = fieldValues(b, f.type, raw, fpath, f.max);
				if (!v) {
					ok = false;
					continue;
				}
				conds.push(
					condition({ kind: "context", name: key, domain: fieldDomain(f.type, f.max) }, fromValues(v), v),
				);
			}
		}
	}
	if (when.data !== undefined) {
		const dpath = [...path, "data"];
		if (!decoder) {
			b.error(dpath, "`data` facts need a decoder on the state");
			ok = false;
		} else if (!isRecord(when.data) || when.data.outcome === undefined) {
			b.error(dpath, "data needs an outcome: { outcome: \"found\", … }");
			ok = false;
		} else {
			const outcomes: number[] = [];
			for (const o of asList(when.data.outcome as string | string[])) {
				const i = decoder.outcomeKeys.indexOf(o as string);
				if (i < 0) {
					b.error([...dpath, "outcome"], `decoder ${decoder.name} has no outcome '${o}' (it has: ${decoder.outcomeKeys.join(", ")})`);
					ok = false;
				} else outcomes.push(i);
			}
			conds.push(
				condition({ kind: "dataOutcome", domain: [0, decoder.outcomeKeys.length] }, fromValues(outcomes), outcomes),
			);
			for (const [fname, raw] of Object.entries(when.data)) {
				if (fname === "outcome") continue;
				const fpath = [...dpath, fname];
				const providers = outcomes.filter((i) => fname in decoder.info.outcomes[decoder.outcomeKeys[i]].fields);
				if (providers.length !== outcomes.length || outcomes.length === 0) {
					b.error(fpath, `data field '${fname}' is not provided by every outcome this rule names`);
					ok = false;
					continue;
				}
				const ftype = decoder.info.outcomes[decoder.outcomeKeys[outcomes[0]]].fields[fname].type as FieldType;
				const v = fieldValues(b, ftype, raw, fpath);
				if (!v) {
					ok = false;
					continue;
				}
				conds.push(condition({ kind: "dataField", name: fname, domain: fieldDomain(ftype) }, fromValues(v), v));
			}
		}
	}
	if (!ok) return undefined;
	// Facts about the answer imply the ioctl succeeded; decoded data implies
	// a GOOD answer (the decoder only runs then).
	const implied: ConditionModel[] = [];
	const kinds = new Set(conds.map((c) => c.fact.kind));
	const answerFacts: FactKind[] = ["status", "sgInfo", "hostStatus", "senseKey", "senseCode", "dataOutcome", "dataField"];
	if (answerFacts.some((k) => kinds.has(k))) implied.push(condition(fact("errno"), [[0, 0]], [0], false, true));
	if (kinds.has("dataOutcome")) implied.push(condition(fact("sgInfo"), [[0, 0]], [0], false, true));
	const merged = new Map<string, ConditionModel>();
	for (const c of [...conds, ...implied]) {
		const key = `${c.fact.kind}:${c.fact.name ?? ""}`;
		const prev = merged.get(key);
		if (!prev) {
			merged.set(key, c);
			continue;
		}
		const both = intersect(prev.allowed, c.allowed);
		if (isEmpty(both)) {
			b.error(path, `the facts of this rule contradict each other (${c.fact.kind}): it can never match`);
			return undefined;
		}
		merged.set(key, { ...prev, allowed: both, implied: prev.implied && c.implied });
	}
	return [...merged.values()];
}

function fieldValues(b: Builder, type: FieldType, raw: unknown, path: ValuePath, max?: number): number[] | undefined {
	const top = max ?? FIELD_TYPES[type].max;
	if (type === "bool") {
		if (typeof raw !== "boolean") {
			b.error(path, "a bool field is tested with true or false");
			return undefined;
		}
		return [raw ? 1 : 0];
	}
	const list = asList(raw as number | number[]);
	if (list.length === 0 || list.some((v) => !Number.isInteger(v) || v < 0 || v > top)) {
		b.error(path, `values must be integers in 0..${top}`);
		return undefined;
	}
	return [...list];
}

function messageRef(cx: BuildContext, key: unknown, path: ValuePath): MessageRef | undefined {
	const { b } = cx;
	if (typeof key !== "string") {
		b.error(path, "message must be a generic message name (e.g. \"UP\") or a key of `messages`");
		return undefined;
	}
	const own = cx.messages.get(key);
	if (own) {
		cx.used.messages.add(key);
		return { kind: "checker", key, cName: own.cName, id: own.id, text: own.text };
	}
	for (const p of cx.profiles) {
		const i = p.genericMessages.findIndex(([n]) => n === key);
		if (i < 0) {
			const known = [...p.genericMessages.map(([n]) => n), ...cx.messages.keys()];
			b.error(path, `unknown message '${key}' for target ${p.id} (known: ${known.join(", ")})`);
			return undefined;
		}
	}
	const p = cx.profiles[0];
	const i = p.genericMessages.findIndex(([n]) => n === key);
	return { kind: "generic", key, cName: `CHECKER_MSGID_${key}`, id: i, text: p.genericMessages[i][1] };
}

function parseAssignments(
	cx: BuildContext,
	raw: unknown,
	path: ValuePath,
	decoder: DecoderCx | undefined,
	dataOutcomes: readonly number[] | undefined,
): AssignmentModel[] | undefined {
	const { b } = cx;
	if (raw === undefined) return [];
	if (!isRecord(raw)) {
		b.error(path, "`set` must map context fields to values");
		return undefined;
	}
	const out: AssignmentModel[] = [];
	for (const [key, v] of Object.entries(raw)) {
		const fpath = [...path, key];
		const field = cx.context.get(key);
		if (!field) {
			b.error(fpath, `unknown context field '${key}'`);
			return undefined;
		}
		cx.used.fields.add(key);
		const value = assignedValue(cx, field, v, fpath, decoder, dataOutcomes);
		if (!value) return undefined;
		out.push({ field, value });
	}
	return out;
}

function assignedValue(
	cx: BuildContext,
	field: ContextFieldModel,
	v: unknown,
	path: ValuePath,
	decoder: DecoderCx | undefined,
	dataOutcomes: readonly number[] | undefined,
): AssignedValueModel | undefined {
	const { b } = cx;
	if (typeof v === "boolean" || typeof v === "number") {
		const n = typeof v === "boolean" ? (v ? 1 : 0) : v;
		if ((field.type === "bool") !== (typeof v === "boolean")) {
			b.error(path, `context field '${field.key}' is ${field.type}: assign ${field.type === "bool" ? "true or false" : "a number"}`);
			return undefined;
		}
		if (!Number.isInteger(n) || n < 0 || n > field.max) {
			b.error(path, `value ${n} does not fit context field '${field.key}' (0..${field.max})`);
			return undefined;
		}
		return { kind: "const", value: n };
	}
	if (isRecord(v) && typeof v.context === "string") {
		const src = cx.context.get(v.context);
		if (!src) {
			b.error(path, `unknown context field '${v.context}'`);
			return undefined;
		}
		cx.used.fields.add(src.key);
		if ((src.type === "bool") !== (field.type === "bool")) {
			b.error(path, `cannot assign ${src.type} field '${src.key}' to ${field.type} field '${field.key}'`);
			return undefined;
		}
		return { kind: "context", field: src.key, max: src.max };
	}
	if (isRecord(v) && typeof v.data === "string") {
		if (!decoder || !dataOutcomes || dataOutcomes.length === 0) {
			b.error(path, `'${v.data}' is decoded data: the rule must test data.outcome first`);
			return undefined;
		}
		const fname = v.data;
		let max = 0;
		for (const i of dataOutcomes) {
			const f = decoder.info.outcomes[decoder.outcomeKeys[i]].fields[fname];
			if (!f) {
				b.error(path, `outcome '${decoder.outcomeKeys[i]}' of ${decoder.name} has no field '${fname}'`);
				return undefined;
			}
			if ((f.type === "bool") !== (field.type === "bool")) {
				b.error(path, `cannot assign ${f.type} '${fname}' to ${field.type} field '${field.key}'`);
				return undefined;
			}
			max = Math.max(max, f.max ?? FIELD_TYPES[f.type].max);
		}
		return { kind: "data", field: fname, max };
	}
	b.error(path, "a value is a number, a boolean, { context: FIELD } or { data: FIELD }");
	return undefined;
}

function parseFinalOutcome(
	cx: BuildContext,
	raw: unknown,
	path: ValuePath,
	decoder: DecoderCx | undefined,
	dataOutcomes: readonly number[] | undefined,
): FinalOutcomeModel | undefined {
	const { b } = cx;
	if (!isRecord(raw)) {
		b.error(path, "an outcome is { report, message }, { goto } or { retry, whenExhausted }");
		return undefined;
	}
	if ("report" in raw) {
		b.onlyKeys(raw, ["report", "message", "set"], path, "report property");
		let pathState;
		for (const p of cx.profiles) {
			const v = p.checkerPathStates.indexOf(raw.report as string);
			if (v < 0) {
				b.error([...path, "report"], `path state ${JSON.stringify(raw.report)} is not one a checker may report for target ${p.id} (allowed: ${p.checkerPathStates.join(", ")})`);
				return undefined;
			}
			pathState = { name: raw.report as string, value: p.pathStates.indexOf(raw.report as string) };
		}
		const message = messageRef(cx, raw.message, [...path, "message"]);
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoder, dataOutcomes);
		if (!pathState || !message || !assignments) return undefined;
		return { kind: "report", pathState, message, assignments };
	}
	if ("goto" in raw) {
		b.onlyKeys(raw, ["goto", "set"], path, "goto property");
		if (typeof raw.goto !== "string" || !cx.stateKeys.has(raw.goto)) {
			b.error([...path, "goto"], `goto to unknown state ${JSON.stringify(raw.goto)} (states: ${[...cx.stateKeys].join(", ")})`);
			return undefined;
		}
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoder, dataOutcomes);
		if (!assignments) return undefined;
		return { kind: "goto", target: raw.goto, assignments };
	}
	b.error(path, "an outcome is { report, message }, { goto } or { retry, whenExhausted }");
	return undefined;
}

function parseOutcome(
	cx: BuildContext,
	raw: unknown,
	path: ValuePath,
	stateKey: string,
	decoder: DecoderCx | undefined,
	dataOutcomes: readonly number[] | undefined,
	decision: boolean,
): OutcomeModel | undefined {
	const { b } = cx;
	if (isRecord(raw) && "retry" in raw) {
		if (decision) {
			b.error(path, "a decision state cannot retry: it sends no command");
			return undefined;
		}
		b.onlyKeys(raw, ["retry", "goto", "set", "whenExhausted"], path, "retry property");
		const budget = typeof raw.retry === "string" ? cx.budgets.get(raw.retry) : undefined;
		if (!budget) {
			const known = [...cx.budgets.keys()];
			b.error(
				[...path, "retry"],
				known.length === 0
					? `retry without a budget: declare retryBudgets: { ${String(raw.retry)}: { maxRetries: N } }`
					: `retry from unknown budget ${JSON.stringify(raw.retry)} (budgets: ${known.join(", ")})`,
			);
			return undefined;
		}
		cx.used.budgets.add(budget.key);
		const target = raw.goto === undefined ? stateKey : raw.goto;
		if (typeof target !== "string" || !cx.stateKeys.has(target)) {
			b.error([...path, "goto"], `retry in unknown state ${JSON.stringify(target)}`);
			return undefined;
		}
		if (raw.whenExhausted === undefined) {
			b.error(path, "a retry needs whenExhausted: \"fallthrough\" or the outcome once the budget is spent");
			return undefined;
		}
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoder, dataOutcomes);
		const exhausted =
			raw.whenExhausted === "fallthrough"
				? null
				: parseFinalOutcome(cx, raw.whenExhausted, [...path, "whenExhausted"], decoder, dataOutcomes);
		if (!assignments || exhausted === undefined) return undefined;
		return { kind: "retry", budget, target, assignments, exhausted };
	}
	return parseFinalOutcome(cx, raw, path, decoder, dataOutcomes);
}

function covers(earlier: ConditionModel[], later: ConditionModel[]): boolean {
	for (const c of earlier) {
		const l = later.find((x) => x.fact.kind === c.fact.kind && x.fact.name === c.fact.name);
		const allowedLater: IntervalSet = l ? l.allowed : [c.fact.domain];
		if (!isSubset(allowedLater, c.allowed)) return false;
	}
	return true;
}

function buildRules(
	cx: BuildContext,
	rawRules: unknown,
	path: ValuePath,
	stateKey: string,
	decoder: DecoderCx | undefined,
	decision: boolean,
): RuleModel[] {
	const { b } = cx;
	if (!Array.isArray(rawRules) || rawRules.length === 0) {
		b.error(path, `state '${stateKey}' needs a non-empty list of rules`);
		return [];
	}
	const rules: RuleModel[] = [];
	rawRules.forEach((raw: unknown, index: number) => {
		const rpath = [...path, index];
		if (!isRecord(raw)) {
			b.error(rpath, "a rule is { when?, then }");
			return;
		}
		b.onlyKeys(raw, ["when", "then", "doc"], rpath, "rule property");
		const conditions = parseWhen(cx, raw.when, [...rpath, "when"], decoder, decision);
		if (!conditions) return;
		const dataOutcomes = conditions.find((c) => c.fact.kind === "dataOutcome")?.written;
		if (raw.then === undefined) {
			b.error(rpath, "the rule has no `then` outcome");
			return;
		}
		const outcome = parseOutcome(cx, raw.then, [...rpath, "then"], stateKey, decoder, dataOutcomes, decision);
		if (!outcome) return;
		const terminal = outcome.kind !== "retry" || outcome.exhausted !== null;
		rules.push({
			index,
			doc: b.doc(rpath, raw.doc),
			loc: b.index.locate(rpath),
			conditions,
			emittedConditions: conditions,
			outcome,
			terminal,
		});
	});
	if (rules.length !== rawRules.length) return rules;
	// shadowed rules: an earlier rule that always ends the list matches
	// every answer this one matches
	for (const r of rules) {
		const by = rules.find((e) => e.index < r.index && e.terminal && covers(e.conditions, r.conditions));
		if (by) {
			b.error(
				[...path, r.index],
				`rule ${r.index + 1} of state '${stateKey}' can never match: rule ${by.index + 1} (line ${by.loc.line}) already matches every answer it matches`,
			);
		}
	}
	const last = rules[rules.length - 1];
	if (last && last.conditions.some((c) => !c.implied)) {
		b.error(
			[...path, last.index],
			`the last rule of state '${stateKey}' must have no \`when\`: every answer needs an outcome`,
		);
	}
	// what C still has to test: implied conditions that earlier terminal
	// rules have already established are left out
	const known = new Map<string, IntervalSet>();
	for (const r of rules) {
		// a decoded outcome implies the ioctl succeeded with a GOOD answer:
		// the C sets it only then
		const outcome = r.conditions.find((c) => c.fact.kind === "dataOutcome");
		const decoded = outcome !== undefined && !contains(outcome.allowed, outcome.fact.domain[1]);
		r.emittedConditions = r.conditions.filter((c) => {
			if (!c.implied) return true;
			if (decoded && (c.fact.kind === "errno" || c.fact.kind === "sgInfo")) return false;
			const k = known.get(`${c.fact.kind}:${c.fact.name ?? ""}`) ?? [c.fact.domain];
			return !isSubset(k, c.allowed);
		});
		if (r.terminal && r.conditions.length === 1) {
			const c = r.conditions[0];
			const key = `${c.fact.kind}:${c.fact.name ?? ""}`;
			known.set(key, intersect(known.get(key) ?? [c.fact.domain], complement(c.allowed, c.fact.domain)));
		}
	}
	return rules;
}

function buildCommand(cx: BuildContext, raw: unknown, path: ValuePath): CommandModel | undefined {
	const { b } = cx;
	if (!isRecord(raw) || !Array.isArray(raw.cdb) || typeof raw.name !== "string") {
		b.error(path, "command must be a CommandSpec, e.g. testUnitReady()");
		return undefined;
	}
	b.onlyKeys(raw, ["name", "cdb", "direction", "dataLength", "allocationLength"], path, "command property");
	if (![6, 10, 12, 16].includes(raw.cdb.length)) {
		b.error([...path, "cdb"], `a CDB is 6, 10, 12 or 16 bytes, not ${raw.cdb.length}`);
		return undefined;
	}
	const direction = raw.direction as string;
	if (!(direction in DXFER)) {
		b.error([...path, "direction"], `direction must be one of ${Object.keys(DXFER).join(", ")}`);
		return undefined;
	}
	let dataLength: CommandModel["dataLength"];
	let maxDataLength: number;
	if (typeof raw.dataLength === "number") {
		if (!Number.isInteger(raw.dataLength) || raw.dataLength < 0 || raw.dataLength > 0x10000) {
			b.error([...path, "dataLength"], "dataLength must be an integer in 0..65536");
			return undefined;
		}
		dataLength = { kind: "const", value: raw.dataLength };
		maxDataLength = raw.dataLength;
	} else if (isRecord(raw.dataLength) && typeof raw.dataLength.context === "string") {
		const f = cx.context.get(raw.dataLength.context);
		if (!f || f.type === "bool" || f.type === "u8") {
			b.error([...path, "dataLength"], `dataLength must name a u16 or u32 context field, not '${raw.dataLength.context}'`);
			return undefined;
		}
		if (f.max > 0x10000) {
			b.error([...path, "dataLength"], `context field '${f.key}' sizes a buffer: give it a max of at most 65536 (it has ${f.max})`);
			return undefined;
		}
		cx.used.fields.add(f.key);
		dataLength = { kind: "context", field: f };
		maxDataLength = f.max;
	} else {
		b.error([...path, "dataLength"], "dataLength is a number or { context: FIELD }");
		return undefined;
	}
	if ((direction === "none") !== (maxDataLength === 0)) {
		b.error(path, direction === "none" ? "a command without data has dataLength 0" : "a command with data needs a dataLength");
		return undefined;
	}
	const cdb: CdbByteModel[] = [];
	const alloc = raw.allocationLength as { offset: number; size: number } | undefined;
	if (alloc !== undefined) {
		if (!isRecord(alloc) || ![1, 2, 4].includes(alloc.size) || !Number.isInteger(alloc.offset) || alloc.offset < 1 || alloc.offset + alloc.size > raw.cdb.length) {
			b.error([...path, "allocationLength"], "allocationLength must be { offset, size: 1|2|4 } inside the CDB");
			return undefined;
		}
		if (maxDataLength >= 2 ** (8 * alloc.size)) {
			b.error([...path, "allocationLength"], `a ${alloc.size}-byte allocation length cannot hold ${maxDataLength}`);
			return undefined;
		}
	}
	for (const [i, byte] of (raw.cdb as unknown[]).entries()) {
		const bpath = [...path, "cdb", i];
		if (alloc && i >= alloc.offset && i < alloc.offset + alloc.size) {
			cdb.push({ kind: "allocationLength", shift: 8 * (alloc.offset + alloc.size - 1 - i) });
		} else if (typeof byte === "number") {
			if (!Number.isInteger(byte) || byte < 0 || byte > 255) {
				b.error(bpath, `CDB byte ${i} must be 0..255`);
				return undefined;
			}
			cdb.push({ kind: "const", value: byte });
		} else if (isRecord(byte) && typeof byte.context === "string") {
			const f = cx.context.get(byte.context);
			if (!f || f.type !== "bool") {
				b.error(bpath, `CDB byte ${i} is chosen by '${byte.context}', which must be a bool context field`);
				return undefined;
			}
			cx.used.fields.add(f.key);
			cdb.push({ kind: "context", field: f, ifSet: byte.ifSet as number, ifClear: byte.ifClear as number });
		} else {
			b.error(bpath, `CDB byte ${i} must be a number or { context, ifSet, ifClear }`);
			return undefined;
		}
	}
	const dx = DXFER[direction as keyof typeof DXFER];
	return {
		name: raw.name,
		cdb,
		direction: direction as CommandModel["direction"],
		dxferCName: dx.cName,
		dxferValue: dx.value,
		dataLength,
		maxDataLength,
		senseLength: SENSE_BUFFER_LENGTH,
	};
}

function buildDecoderUse(
	cx: BuildContext,
	raw: Record<string, unknown>,
	path: ValuePath,
): { use: DecoderUseModel; dcx: DecoderCx } | undefined {
	const { b } = cx;
	const name = raw.decoder as string;
	const info = (DECODERS as Record<string, DecoderInfo>)[name];
	if (!info) {
		b.error([...path, "decoder"], `unknown decoder ${JSON.stringify(name)} (known: ${Object.keys(DECODERS).join(", ")})`);
		return undefined;
	}
	const outcomeKeys = Object.keys(info.outcomes);
	const dcx: DecoderCx = { name, info, outcomeKeys };
	const inputs: DecoderUseModel["inputs"] = [];
	const rawInputs = isRecord(raw.decoderInputs) ? raw.decoderInputs : {};
	for (const [input, spec] of Object.entries(info.inputs)) {
		const src = rawInputs[input];
		const f = isRecord(src) && typeof src.context === "string" ? cx.context.get(src.context) : undefined;
		if (!f) {
			b.error([...path, "decoderInputs", input], `decoder ${name} needs input '${input}' from a context field: { context: FIELD }`);
			return undefined;
		}
		if ((f.type === "bool") !== (spec.type === "bool")) {
			b.error([...path, "decoderInputs", input], `input '${input}' is ${spec.type}; field '${f.key}' is ${f.type}`);
			return undefined;
		}
		cx.used.fields.add(f.key);
		inputs.push({ key: input, cName: snakeCase(input), field: f });
	}
	for (const k of Object.keys(rawInputs)) {
		if (!(k in info.inputs)) b.error([...path, "decoderInputs", k], `decoder ${name} has no input '${k}'`);
	}
	const store: DecoderUseModel["store"] = [];
	if (raw.store !== undefined) {
		if (!isRecord(raw.store)) {
			b.error([...path, "store"], "store maps decoder outcomes to { contextField: outcomeField | value }");
			return undefined;
		}
		for (const [outcome, assignRaw] of Object.entries(raw.store)) {
			const spath = [...path, "store", outcome];
			const oi = outcomeKeys.indexOf(outcome);
			if (oi < 0) {
				b.error(spath, `decoder ${name} has no outcome '${outcome}'`);
				return undefined;
			}
			if (!isRecord(assignRaw)) {
				b.error(spath, "store maps context fields to outcome fields or values");
				return undefined;
			}
			const converted: Record<string, unknown> = {};
			for (const [k, v] of Object.entries(assignRaw)) converted[k] = typeof v === "string" ? { data: v } : v;
			const assignments = parseAssignments(cx, converted, spath, dcx, [oi]);
			if (!assignments) return undefined;
			store.push({ outcome, assignments });
		}
	}
	return {
		dcx,
		use: {
			name,
			cFunction: `decode_${info.cName}`,
			outcomes: outcomeKeys.map((key, index) => ({
				key,
				cName: `${info.cName.toUpperCase()}_${macroCase(key)}`,
				index,
				fields: Object.entries(info.outcomes[key].fields).map(([fk, f]) => ({
					key: fk,
					cName: snakeCase(fk),
					type: f.type,
				})),
			})),
			inputs,
			store,
		},
	};
}

function buildState(cx: BuildContext, key: string, raw: unknown): StateModel | undefined {
	const { b } = cx;
	const path = ["states", key];
	const cName = snakeCase(key);
	const base = {
		key,
		cName,
		stepName: `${cx.macroPrefix}_STEP_${macroCase(key)}`,
		fnName: `${cx.prefix}_${cName}`,
		loc: b.index.locate(path),
	};
	if (!isRecord(raw)) {
		b.error(path, `state '${key}' must be an object with command and rules, or decide`);
		return undefined;
	}
	if ("decide" in raw) {
		b.onlyKeys(raw, ["decide", "doc"], path, "decision state property");
		const rules = buildRules(cx, raw.decide, [...path, "decide"], key, undefined, true);
		return { ...base, kind: "decision", doc: b.doc(path, raw.doc), rules };
	}
	b.onlyKeys(raw, ["command", "decoder", "decoderInputs", "store", "rules", "doc"], path, "state property");
	const command = buildCommand(cx, raw.command, [...path, "command"]);
	let decoder: ReturnType<typeof buildDecoderUse>;
	if (raw.decoder !== undefined) {
		decoder = buildDecoderUse(cx, raw, path);
		if (!decoder) return undefined;
		if (command && command.direction !== "fromDevice") {
			b.error([...path, "decoder"], "a decoder needs a command that reads data from the device");
		}
	} else if (raw.decoderInputs !== undefined || raw.store !== undefined) {
		b.error(path, "decoderInputs and store need a decoder");
	}
	const rules = buildRules(cx, raw.rules, [...path, "rules"], key, decoder?.dcx, false);
	if (!command) return undefined;
	return { ...base, kind: "command", doc: b.doc(path, raw.doc), command, decoder: decoder?.use, rules };
}

function successors(s: StateModel): { target: string; budgeted: boolean }[] {
	const out: { target: string; budgeted: boolean }[] = [];
	for (const r of s.rules) {
		const o = r.outcome;
		if (o.kind === "goto") out.push({ target: o.target, budgeted: false });
		if (o.kind === "retry") {
			out.push({ target: o.target, budgeted: true });
			if (o.exhausted?.kind === "goto") out.push({ target: o.exhausted.target, budgeted: false });
		}
	}
	return out;
}

function reports(s: StateModel): boolean {
	return s.rules.some(
		(r) => r.outcome.kind === "report" || (r.outcome.kind === "retry" && r.outcome.exhausted?.kind === "report"),
	);
}

function checkGraph(cx: BuildContext, states: StateModel[], initial: string): void {
	const { b } = cx;
	const byKey = new Map(states.map((s) => [s.key, s]));
	// reachability from the initial state
	const reached = new Set<string>([initial]);
	const queue = [initial];
	while (queue.length > 0) {
		const s = byKey.get(queue.shift() as string);
		if (!s) continue;
		for (const { target } of successors(s)) {
			if (!reached.has(target)) {
				reached.add(target);
				queue.push(target);
			}
		}
	}
	for (const s of states) {
		if (!reached.has(s.key)) b.error(["states", s.key], `state '${s.key}' is unreachable from the initial state '${initial}'`);
	}
	// every state must be able to end the check with a report
	const canEnd = new Set(states.filter(reports).map((s) => s.key));
	let grew = true;
	while (grew) {
		grew = false;
		for (const s of states) {
			if (!canEnd.has(s.key) && successors(s).some((e) => canEnd.has(e.target))) {
				canEnd.add(s.key);
				grew = true;
			}
		}
	}
	for (const s of states) {
		if (!canEnd.has(s.key)) b.error(["states", s.key], `state '${s.key}' has no exit: no rule leads to a reported path state`);
	}
	// a cycle of plain gotos would loop forever: one edge of every cycle
	// must draw from a retry budget
	const color = new Map<string, number>();
	const stack: string[] = [];
	const visit = (k: string): boolean => {
		color.set(k, 1);
		stack.push(k);
		const s = byKey.get(k);
		for (const e of s ? successors(s) : []) {
			if (e.budgeted) continue;
			const c = color.get(e.target) ?? 0;
			if (c === 1) {
				const cycle = [...stack.slice(stack.indexOf(e.target)), e.target];
				b.error(["states", k], `goto cycle without a retry budget: ${cycle.join(" → ")} (use retry: BUDGET for one of these transitions)`);
				return true;
			}
			if (c === 0 && visit(e.target)) return true;
		}
		stack.pop();
		color.set(k, 2);
		return false;
	};
	for (const s of states) if ((color.get(s.key) ?? 0) === 0 && visit(s.key)) break;
}

/** Builds and validates a checker model; throws SpecError listing every problem. */
export function buildCheckerModel(spec: CheckerSpec, index: SourceIndex): CheckerModel {
	const b = new Builder(index);
	const raw = spec as unknown as Record<string, unknown>;
	b.onlyKeys(
		raw,
		["kind", "name", "description", "copyright", "targets", "messages", "retryBudgets", "context", "initial", "states"],
		[],
		"checker property",
	);
	if (typeof spec.name !== "string" || !CHECKER_NAME.test(spec.name)) {
		b.error(["name"], `checker name ${JSON.stringify(spec.name)} must be lower-case letters, digits and '_', starting with a letter`);
	} else if (spec.name.length > MAX_CHECKER_NAME) {
		b.error(["name"], `checker name '${spec.name}' is ${spec.name.length} characters; multipathd keeps at most ${MAX_CHECKER_NAME}`);
	}
	if (typeof spec.description !== "string" || spec.description.trim() === "" || spec.description.includes("\n")) {
		b.error(["description"], "description must be one non-empty line");
	}
	if (typeof spec.copyright !== "string" || spec.copyright.trim() === "") {
		b.error(["copyright"], "copyright must name the year and holder, e.g. \"2026 The mpcheckgen authors\"");
	}
	const profiles: AbiProfile[] = [];
	if (!Array.isArray(spec.targets) || spec.targets.length === 0) b.error(["targets"], "targets must list at least one ABI, e.g. [\"0.15\"]");
	else {
		for (const [i, t] of spec.targets.entries()) {
			const p = abiProfile(t);
			if (!p) b.error(["targets", i], `unknown ABI target ${JSON.stringify(t)}`);
			else profiles.push(p);
		}
	}
	if (b.diagnostics.length > 0 || profiles.length === 0) throw new SpecError(b.diagnostics);
	const prefix = spec.name;
	const cx: BuildContext = {
		b,
		spec,
		profiles,
		prefix,
		macroPrefix: prefix.toUpperCase(),
		messages: new Map(),
		budgets: new Map(),
		context: new Map(),
		stateKeys: new Set(),
		used: { messages: new Set(), budgets: new Set(), fields: new Set() },
	};
	buildMessages(cx);
	buildBudgets(cx);
	const contextSize = buildContext(cx);
	if (!isRecord(spec.states) || Object.keys(spec.states).length === 0) {
		b.error(["states"], "states must declare at least one state");
		throw new SpecError(b.diagnostics);
	}
	const stateNames: { key: string; cName: string; path: ValuePath }[] = [];
	for (const key of Object.keys(spec.states)) {
		if (checkIdentifier(b, key, ["states", key], "state")) {
			cx.stateKeys.add(key);
			stateNames.push({ key, cName: snakeCase(key), path: ["states", key] });
		}
	}
	checkUniqueCNames(b, stateNames, "state");
	if (!cx.stateKeys.has(spec.initial)) {
		b.error(["initial"], `initial state ${JSON.stringify(spec.initial)} is not a declared state`);
	}
	const states: StateModel[] = [];
	for (const [key, s] of Object.entries(spec.states)) {
		if (!cx.stateKeys.has(key)) continue;
		const st = buildState(cx, key, s);
		if (st) states.push(st);
	}
	if (b.diagnostics.length === 0) checkGraph(cx, states, spec.initial);
	if (b.diagnostics.length === 0) {
		for (const m of cx.messages.values()) {
			if (!cx.used.messages.has(m.key)) b.error(["messages", m.key], `message '${m.key}' is never reported`);
		}
		for (const k of cx.budgets.keys()) {
			if (!cx.used.budgets.has(k)) b.error(["retryBudgets", k], `retry budget '${k}' is never used`);
		}
		for (const k of cx.context.keys()) {
			if (!cx.used.fields.has(k)) b.error(["context", k], `context field '${k}' is never read or written`);
		}
	}
	if (b.diagnostics.length > 0) throw new SpecError(b.diagnostics);
	const maxDataLength = Math.max(0, ...states.map((s) => s.command?.maxDataLength ?? 0));
	return {
		kind: "checker",
		name: spec.name,
		cPrefix: prefix,
		cMacroPrefix: cx.macroPrefix,
		description: spec.description.trim(),
		copyright: spec.copyright.trim(),
		specFile: index.file,
		targets: profiles.map((p) => p.id),
		messages: [...cx.messages.values()],
		budgets: [...cx.budgets.values()],
		context: [...cx.context.values()],
		contextSize,
		states,
		initial: spec.initial,
		usesDataBuffer: maxDataLength > 0,
		maxDataLength,
		decoders: [...new Set(states.flatMap((s) => (s.decoder ? [s.decoder.name] : [])))],
	};
}
