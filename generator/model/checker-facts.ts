// A rule's `when` → its conditions: one per fact, each the set of values
// (intervals) that satisfy it, plus the facts the written ones imply (a
// sense key implies the ioctl succeeded; decoded data implies a GOOD answer).
import { didYouMean } from "./diagnostics.ts";
import { FIELD_TYPES } from "../abi/c-layout.ts";
import { ERRNO, HOST_STATUS, MAX_ERRNO, SCSI_STATUS, SENSE_KEY } from "../spec/vocabulary.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { complement, fromValues, intersect, isEmpty, union, type Interval, type IntervalSet } from "./intervals.ts";
import { asList, isRecord, type SpecInput } from "./input.ts";
import type { ValuePath } from "./source-index.ts";
import type {
	AnswerFactKind,
	ConditionModel,
	DecoderModel,
	FactRef,
	NumericFieldType,
	WrittenValue,
} from "./types.ts";
import { factKey } from "./types.ts";

export const ANSWER_DOMAINS: Readonly<Record<AnswerFactKind, Interval>> = {
	errno: [0, MAX_ERRNO],
	status: [0, 0x7e],
	sgInfo: [0, 1],
	hostStatus: [0, 0xffff],
	senseKey: [0, 0xf],
	senseCode: [0, 0xffff],
	driverStatus: [0, 0xffff],
};

const WHEN_KEYS = ["errno", "status", "sgInfo", "hostStatus", "driverStatus", "sense", "context", "data"];

/** The largest domain a bit test may have: its values are kept as intervals. */
const BIT_TEST_MAX = 0xffff;

/** The values x of 0..top with (x & mask) == value. */
function maskedValues(mask: number, value: number, top: number): IntervalSet {
	const out: number[] = [];
	for (let x = 0; x <= top; x++) if ((x & mask) === value) out.push(x);
	return fromValues(out);
}

/**
 * A test of a numeric fact (a context field, a decoded field, the driver
 * status): values, `{ not: values }`, `{ range: [lo, hi] }`, or a bit test
 * (`{ mask, value }`, `{ allBits }`, `{ anyBits }`, `{ noBits }`); a bool
 * field is tested with true or false.
 */
export function fieldTest(
	input: SpecInput,
	type: NumericFieldType,
	raw: unknown,
	path: ValuePath,
	max?: number,
): Pick<ConditionModel, "allowed" | "written" | "negated" | "form"> | undefined {
	const top = max ?? FIELD_TYPES[type].max;
	const domain: Interval = [0, top];
	const inRange = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= top;
	if (type === "bool" || typeof raw === "boolean") {
		const v = fieldValues(input, type, raw, path, max);
		return v && { allowed: fromValues(values(v)), written: v, negated: false };
	}
	if (isRecord(raw)) {
		const keys = Object.keys(raw);
		if (keys.length === 1 && keys[0] === "not") {
			const v = fieldValues(input, type, raw.not, [...path, "not"], max);
			return v && { allowed: complement(fromValues(values(v)), domain), written: v, negated: true };
		}
		if (keys.length === 1 && keys[0] === "range") {
			const r = raw.range;
			if (!Array.isArray(r) || r.length !== 2 || !inRange(r[0]) || !inRange(r[1]) || r[0] > r[1]) {
				input.error([...path, "range"], `range is [lo, hi] with 0 <= lo <= hi <= ${top}`);
				return undefined;
			}
			return { allowed: [[r[0], r[1]]], written: [], negated: false, form: { kind: "range", lo: r[0], hi: r[1] } };
		}
		const bits = keys.length === 1 && ["allBits", "anyBits", "noBits"].includes(keys[0]) ? keys[0] : keys.sort().join(",") === "mask,value" ? "mask" : undefined;
		if (bits) {
			const mask = bits === "mask" ? raw.mask : raw[bits];
			const value = bits === "mask" ? raw.value : bits === "allBits" ? raw.allBits : 0;
			if (top > BIT_TEST_MAX) {
				input.error(path, `bit tests are for facts of at most 16 bits; this one may be ${top}`);
				return undefined;
			}
			if (!inRange(mask) || mask === 0 || !inRange(value) || (Number(value) & ~Number(mask)) !== 0) {
				input.error(path, `a bit test needs a mask in 1..${top} (and a value within the mask)`);
				return undefined;
			}
			const set = maskedValues(mask, value as number, top);
			const negated = bits === "anyBits";
			const allowed = negated ? complement(set, domain) : set;
			if (isEmpty(allowed)) {
				input.error(path, `no value of 0..${top} passes this bit test`);
				return undefined;
			}
			return { allowed, written: [], negated, form: { kind: "bits", mask, value: value as number } };
		}
		input.error(path, "a test is a value, a list of values, { not: … }, { range: [lo, hi] }, { mask, value }, { allBits }, { anyBits } or { noBits }");
		return undefined;
	}
	const v = fieldValues(input, type, raw, path, max);
	return v && { allowed: fromValues(values(v)), written: v, negated: false };
}

function answerFact(kind: AnswerFactKind): FactRef {
	return { kind, domain: ANSWER_DOMAINS[kind] };
}

function condition(
	fact: FactRef,
	allowed: IntervalSet,
	written: readonly WrittenValue[],
	negated = false,
	implied = false,
	form?: ConditionModel["form"],
): ConditionModel {
	return { fact, allowed, written, negated, implied, ...(form ? { form } : {}) };
}

function tested(fact: FactRef, t: Pick<ConditionModel, "allowed" | "written" | "negated" | "form">): ConditionModel {
	return condition(fact, t.allowed, t.written, t.negated, false, t.form);
}

function parseSenseCode(input: SpecInput, code: unknown, path: ValuePath): IntervalSet | undefined {
	const m = typeof code === "string" ? /^([0-9A-Fa-f]{2})\/([0-9A-Fa-f]{2}|\*)$/.exec(code) : null;
	if (!m) {
		input.error(path, `sense code ${JSON.stringify(code)} must be "ASC/ASCQ" in hex, e.g. "04/0B", or "29/*" for any ASCQ`);
		return undefined;
	}
	const asc = parseInt(m[1], 16);
	if (m[2] === "*") return [[asc << 8, (asc << 8) | 0xff]];
	return [[(asc << 8) | parseInt(m[2], 16), (asc << 8) | parseInt(m[2], 16)]];
}

/** Names of a vocabulary table → their values, each remembering its name. */
function namedValues(
	input: SpecInput,
	table: Record<string, number>,
	raw: unknown,
	path: ValuePath,
	what: string,
): WrittenValue[] | undefined {
	const out: WrittenValue[] = [];
	for (const n of asList(raw as string | string[])) {
		if (typeof n !== "string" || !(n in table)) {
			input.error(path, `unknown ${what} ${JSON.stringify(n)}${didYouMean(String(n), Object.keys(table))} (known: ${Object.keys(table).join(", ")})`);
			return undefined;
		}
		out.push({ value: table[n], symbol: n });
	}
	if (out.length === 0) {
		input.error(path, `empty ${what} list`);
		return undefined;
	}
	return out;
}

function values(written: readonly WrittenValue[]): number[] {
	return written.map((w) => w.value);
}

/** Values a rule compares a field with: true/false for a bool, integers within the field's range otherwise. */
export function fieldValues(
	input: SpecInput,
	type: NumericFieldType,
	raw: unknown,
	path: ValuePath,
	max?: number,
): WrittenValue[] | undefined {
	const top = max ?? FIELD_TYPES[type].max;
	if (type === "bool") {
		if (typeof raw !== "boolean") {
			input.error(path, "a bool field is tested with true or false");
			return undefined;
		}
		return [{ value: raw ? 1 : 0 }];
	}
	const list = asList(raw as number | number[]);
	if (list.length === 0 || list.some((v) => !Number.isInteger(v) || v < 0 || v > top)) {
		input.error(path, `values must be integers in 0..${top}`);
		return undefined;
	}
	return list.map((value) => ({ value }));
}

/** Parses one rule's `when` into conditions (written and implied), one per fact; undefined after an error. */
export function parseWhen(
	cx: CheckerScope,
	when: unknown,
	path: ValuePath,
	decoder: DecoderModel | undefined,
	decision: boolean,
): ConditionModel[] | undefined {
	const { input } = cx;
	if (when === undefined) return [];
	if (!isRecord(when)) {
		input.error(path, "`when` must be an object of facts");
		return undefined;
	}
	input.onlyKeys(when, decision ? ["context"] : WHEN_KEYS, path, decision ? "fact for a decision (only context)" : "fact");
	const conds: ConditionModel[] = [];
	let ok = true;
	if (when.errno !== undefined) {
		if (when.errno === "any") conds.push(condition(answerFact("errno"), [[1, MAX_ERRNO]], []));
		else {
			const v = namedValues(input, ERRNO, when.errno, [...path, "errno"], "errno");
			if (v) conds.push(condition(answerFact("errno"), fromValues(values(v)), v));
			else ok = false;
		}
	}
	if (when.status !== undefined) {
		const v = namedValues(input, SCSI_STATUS, when.status, [...path, "status"], "SCSI status");
		if (v) conds.push(condition(answerFact("status"), fromValues(values(v)), v));
		else ok = false;
	}
	if (when.sgInfo !== undefined) {
		if (when.sgInfo === "ok") conds.push(condition(answerFact("sgInfo"), [[0, 0]], [{ value: 0 }]));
		else if (when.sgInfo === "check") conds.push(condition(answerFact("sgInfo"), [[1, 1]], [{ value: 1 }]));
		else {
			input.error([...path, "sgInfo"], `sgInfo must be "ok" or "check", not ${JSON.stringify(when.sgInfo)}`);
			ok = false;
		}
	}
	if (when.hostStatus !== undefined) {
		const hs = when.hostStatus;
		const negated = isRecord(hs) && "not" in hs;
		const v = namedValues(input, HOST_STATUS, negated ? hs.not : hs, [...path, "hostStatus"], "host status");
		if (v) {
			const set = fromValues(values(v));
			conds.push(
				condition(answerFact("hostStatus"), negated ? complement(set, ANSWER_DOMAINS.hostStatus) : set, v, negated),
			);
		} else ok = false;
	}
	if (when.driverStatus !== undefined) {
		const t = fieldTest(input, "u16", when.driverStatus, [...path, "driverStatus"]);
		if (t) conds.push(tested(answerFact("driverStatus"), t));
		else ok = false;
	}
	if (when.sense !== undefined) {
		const s = when.sense;
		if (!isRecord(s) || (s.key === undefined && s.code === undefined)) {
			input.error([...path, "sense"], "sense needs a key and/or a code: { key: \"NOT_READY\", code: \"04/0B\" }");
			ok = false;
		} else {
			input.onlyKeys(s, ["key", "code"], [...path, "sense"], "sense property");
			if (s.key !== undefined) {
				const v = namedValues(input, SENSE_KEY, s.key, [...path, "sense", "key"], "sense key");
				if (v) conds.push(condition(answerFact("senseKey"), fromValues(values(v)), v));
				else ok = false;
			}
			if (s.code !== undefined) {
				let set: IntervalSet = [];
				for (const c of asList(s.code)) {
					const r = parseSenseCode(input, c, [...path, "sense", "code"]);
					if (!r) ok = false;
					else set = union(set, r);
				}
				// the intervals say it all: one per exact code or per ASC
				conds.push(condition(answerFact("senseCode"), set, []));
			}
		}
	}
	if (when.context !== undefined) {
		if (!isRecord(when.context)) {
			input.error([...path, "context"], "context must map field names to values");
			ok = false;
		} else {
			for (const [key, raw] of Object.entries(when.context)) {
				const fpath = [...path, "context", key];
				const f = cx.context.get(key);
				if (!f) {
					input.error(fpath, `unknown context field '${key}'${didYouMean(key, cx.context.keys())}`);
					ok = false;
					continue;
				}
				cx.used.fields.add(key);
				if (f.type === "bytes") {
					input.error(fpath, `context field '${key}' is bytes (${f.length}), not a number: a rule cannot test it (compare it in a decoder, as a bytes input)`);
					ok = false;
					continue;
				}
				const t = fieldTest(input, f.type, raw, fpath, f.max);
				if (!t) {
					ok = false;
					continue;
				}
				conds.push(tested({ kind: "context", field: f, domain: [0, f.max] }, t));
			}
		}
	}
	if (when.data !== undefined) {
		const dpath = [...path, "data"];
		if (!decoder) {
			input.error(dpath, "`data` facts need a decoder on the state");
			ok = false;
		} else if (!isRecord(when.data) || Object.keys(when.data).length === 0) {
			input.error(dpath, "data needs an outcome and/or decoded fields: { outcome: \"found\", … }");
			ok = false;
		} else {
			const outcomes: WrittenValue[] = [];
			// without an outcome: the outcomes that provide every field named
			const named = Object.keys(when.data).filter((k) => k !== "outcome");
			const given =
				when.data.outcome !== undefined
					? asList(when.data.outcome as string | string[])
					: decoder.outcomes.filter((o) => named.every((k) => o.fields.some((f) => f.key === k))).map((o) => o.key);
			if (given.length === 0) {
				input.error(dpath, `no outcome of decoder ${decoder.name} provides ${named.map((k) => `'${k}'`).join(" and ")}${didYouMean(named[0] ?? "", decoder.fields.map((f) => f.key))}`);
				ok = false;
			}
			for (const o of given) {
				const found = decoder.outcomes.find((x) => x.key === o);
				if (!found) {
					input.error(
						[...dpath, "outcome"],
						`decoder ${decoder.name} has no outcome '${String(o)}' (it has: ${decoder.outcomes.map((x) => x.key).join(", ")})`,
					);
					ok = false;
				} else outcomes.push({ value: found.index, symbol: found.key });
			}
			conds.push(
				condition(
					{ kind: "dataOutcome", decoder, domain: [0, decoder.outcomes.length] },
					fromValues(values(outcomes)),
					outcomes,
				),
			);
			for (const [fname, raw] of Object.entries(when.data)) {
				if (fname === "outcome") continue;
				const fpath = [...dpath, fname];
				const named = outcomes.map((o) => decoder.outcomes[o.value]);
				const provided = named.length > 0 && named.every((o) => o.fields.some((f) => f.key === fname));
				const field = decoder.fields.find((f) => f.key === fname);
				if (!provided || !field) {
					input.error(fpath, `data field '${fname}' is not provided by every outcome this rule names`);
					ok = false;
					continue;
				}
				if (field.type === "bytes") {
					input.error(fpath, `data field '${fname}' is bytes (${field.length}), not a number: a rule cannot test it (compare it in the decoder, with a bytes input)`);
					ok = false;
					continue;
				}
				const t = fieldTest(input, field.type, raw, fpath, field.max);
				if (!t) {
					ok = false;
					continue;
				}
				conds.push(tested({ kind: "dataField", field, domain: [0, field.max] }, t));
			}
		}
	}
	if (!ok) return undefined;
	// facts about the answer imply the ioctl succeeded; decoded data implies
	// a GOOD answer (the decoder only runs then)
	const implied: ConditionModel[] = [];
	const kinds = new Set(conds.map((c) => c.fact.kind));
	const answerFacts = ["status", "sgInfo", "hostStatus", "driverStatus", "senseKey", "senseCode", "dataOutcome", "dataField"] as const;
	if (answerFacts.some((k) => kinds.has(k))) implied.push(condition(answerFact("errno"), [[0, 0]], [{ value: 0 }], false, true));
	if (kinds.has("dataOutcome")) implied.push(condition(answerFact("sgInfo"), [[0, 0]], [{ value: 0 }], false, true));
	const merged = new Map<string, ConditionModel>();
	for (const c of [...conds, ...implied]) {
		const key = factKey(c.fact);
		const prev = merged.get(key);
		if (!prev) {
			merged.set(key, c);
			continue;
		}
		const both = intersect(prev.allowed, c.allowed);
		if (isEmpty(both)) {
			input.error(path, `the facts of this rule contradict each other (${c.fact.kind}): it can never match`);
			return undefined;
		}
		merged.set(key, { ...prev, allowed: both, implied: prev.implied && c.implied });
	}
	return [...merged.values()];
}
