// A rule's `then` → its outcome: a report (path state and message), a goto,
// or a retry drawn from a budget; each with the context stores it makes.
import { didYouMean } from "./diagnostics.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { isRecord } from "./input.ts";
import type { ValuePath } from "./source-index.ts";
import type {
	AssignedValueModel,
	AssignmentModel,
	ContextFieldModel,
	DecoderModel,
	FinalOutcomeModel,
	MessageRef,
	OutcomeModel,
	PathStateRef,
	StateModel,
} from "./types.ts";

/** The decoder outcomes a rule has established (its data.outcome), for stores of decoded fields. */
export interface DecodedFacts {
	decoder: DecoderModel;
	outcomes: readonly number[];
}

function messageRef(cx: CheckerScope, key: unknown, path: ValuePath): MessageRef | undefined {
	const { input } = cx;
	if (typeof key !== "string") {
		input.error(path, "message must be a generic message name (e.g. \"UP\") or a key of `messages`");
		return undefined;
	}
	const own = cx.messages.get(key);
	if (own) {
		cx.used.messages.add(key);
		return { kind: "checker", message: own, key, id: own.id, text: own.text };
	}
	for (const p of cx.profiles) {
		if (!p.genericMessages.some(([n]) => n === key) && !(key in p.messageSubstitutes)) {
			const known = [...p.genericMessages.map(([n]) => n), ...Object.keys(p.messageSubstitutes), ...cx.messages.keys()];
			input.error(path, `unknown message '${key}'${didYouMean(key, known)} for target ${p.id} (known: ${known.join(", ")})`);
			return undefined;
		}
	}
	// the id and text of the first target that has the message itself
	const p = cx.profiles.find((x) => x.genericMessages.some(([n]) => n === key));
	if (!p) {
		input.error(path, `message '${key}' exists in none of the targets (${cx.profiles.map((x) => x.id).join(", ")})`);
		return undefined;
	}
	const i = p.genericMessages.findIndex(([n]) => n === key);
	return { kind: "generic", key, id: i, text: p.genericMessages[i][1] };
}

function pathStateRef(cx: CheckerScope, raw: unknown, path: ValuePath): PathStateRef | undefined {
	for (const p of cx.profiles) {
		if (typeof raw !== "string" || !(p.checkerPathStates.includes(raw) || raw in p.substitutes)) {
			const allowed = [...p.checkerPathStates, ...Object.keys(p.substitutes)];
			cx.input.error(
				path,
				`path state ${JSON.stringify(raw)} is not one a checker may report for target ${p.id} (allowed: ${allowed.join(", ")})`,
			);
			return undefined;
		}
	}
	// the value of the first target that has the state itself
	const p = cx.profiles.find((x) => x.checkerPathStates.includes(raw as string));
	if (!p) {
		cx.input.error(path, `path state ${JSON.stringify(raw)} exists in none of the targets (${cx.profiles.map((x) => x.id).join(", ")})`);
		return undefined;
	}
	return { name: raw as string, value: p.pathStates.indexOf(raw as string) };
}

function assignedValue(
	cx: CheckerScope,
	field: ContextFieldModel,
	v: unknown,
	path: ValuePath,
	decoded: DecodedFacts | undefined,
): AssignedValueModel | undefined {
	const { input } = cx;
	const what = (f: { type: string; length: number }) => (f.type === "bytes" ? `bytes (${f.length})` : f.type);
	/** A bytes field takes the bytes of a bytes field of the same length; a number field never takes bytes. */
	const bytesMatch = (src: { type: string; length: number }, name: string): boolean => {
		if ((src.type === "bytes") === (field.type === "bytes") && src.length === field.length) return true;
		input.error(
			path,
			field.type === "bytes"
				? `context field '${field.key}' is ${field.length} bytes: it takes a bytes field of the same length, not ${what(src)} ${name}`
				: `${name} is bytes (${src.length}), not a number: it cannot be ${field.key.startsWith("value of message") ? `the ${field.key}` : `assigned to ${field.type} field '${field.key}'`}`,
		);
		return false;
	};
	if (field.type === "bytes" && (typeof v === "boolean" || typeof v === "number")) {
		input.error(path, `context field '${field.key}' is ${field.length} bytes: assign it a bytes field ({ data: FIELD } or { context: FIELD }), not a number`);
		return undefined;
	}
	if (typeof v === "boolean" || typeof v === "number") {
		const n = typeof v === "boolean" ? (v ? 1 : 0) : v;
		if ((field.type === "bool") !== (typeof v === "boolean")) {
			input.error(path, `context field '${field.key}' is ${field.type}: assign ${field.type === "bool" ? "true or false" : "a number"}`);
			return undefined;
		}
		if (!Number.isInteger(n) || n < 0 || n > field.max) {
			input.error(path, `value ${n} does not fit context field '${field.key}' (0..${field.max})`);
			return undefined;
		}
		return { kind: "const", value: n };
	}
	if (isRecord(v) && typeof v.context === "string") {
		const src = cx.context.get(v.context);
		if (!src) {
			input.error(path, `unknown context field '${v.context}'${didYouMean(v.context, cx.context.keys())}`);
			return undefined;
		}
		cx.used.fields.add(src.key);
		if (src.type === "bytes" || field.type === "bytes") return bytesMatch(src, `field '${src.key}'`) ? { kind: "contextBytes", field: src } : undefined;
		if ((src.type === "bool") !== (field.type === "bool")) {
			input.error(path, `cannot assign ${src.type} field '${src.key}' to ${field.type} field '${field.key}'`);
			return undefined;
		}
		return { kind: "context", field: src, max: src.max };
	}
	if (isRecord(v) && typeof v.data === "string") {
		if (!decoded || decoded.outcomes.length === 0) {
			input.error(path, `'${v.data}' is decoded data: the rule must test data.outcome first`);
			return undefined;
		}
		const fname = v.data;
		for (const i of decoded.outcomes) {
			const o = decoded.decoder.outcomes[i];
			if (!o.fields.some((f) => f.key === fname)) {
				input.error(path, `outcome '${o.key}' of ${decoded.decoder.name} has no field '${fname}'`);
				return undefined;
			}
		}
		const f = decoded.decoder.fields.find((x) => x.key === fname)!;
		if (f.type === "bytes" || field.type === "bytes") return bytesMatch(f, `'${fname}'`) ? { kind: "dataBytes", field: f } : undefined;
		if ((f.type === "bool") !== (field.type === "bool")) {
			input.error(path, `cannot assign ${f.type} '${fname}' to ${field.type} field '${field.key}'`);
			return undefined;
		}
		return { kind: "data", field: f, max: f.max };
	}
	input.error(path, "a value is a number, a boolean, { context: FIELD } or { data: FIELD }");
	return undefined;
}

export function parseAssignments(
	cx: CheckerScope,
	raw: unknown,
	path: ValuePath,
	decoded: DecodedFacts | undefined,
): AssignmentModel[] | undefined {
	const { input } = cx;
	if (raw === undefined) return [];
	if (!isRecord(raw)) {
		input.error(path, "`set` must map context fields to values");
		return undefined;
	}
	const out: AssignmentModel[] = [];
	for (const [key, v] of Object.entries(raw)) {
		const fpath = [...path, key];
		const field = cx.context.get(key);
		if (!field) {
			input.error(fpath, `unknown context field '${key}'${didYouMean(key, cx.context.keys())}`);
			return undefined;
		}
		cx.used.fields.add(key);
		const value = assignedValue(cx, field, v, fpath, decoded);
		if (!value) return undefined;
		out.push({ field, value });
	}
	return out;
}

function stateRef(cx: CheckerScope, raw: unknown, path: ValuePath, what: string): StateModel | undefined {
	const target = typeof raw === "string" ? cx.states.get(raw) : undefined;
	if (!target) cx.input.error(path, `${what} unknown state ${JSON.stringify(raw)}${typeof raw === "string" ? didYouMean(raw, cx.states.keys()) : ""} (states: ${[...cx.states.keys()].join(", ")})`);
	return target;
}

function parseFinalOutcome(
	cx: CheckerScope,
	raw: unknown,
	path: ValuePath,
	decoded: DecodedFacts | undefined,
): FinalOutcomeModel | undefined {
	const { input } = cx;
	if (!isRecord(raw)) {
		input.error(path, "an outcome is { report, message }, { goto }, { retry, whenExhausted } or (in init states) { done: true }");
		return undefined;
	}
	if ("report" in raw) {
		input.onlyKeys(raw, ["report", "message", "set", "value"], path, "report property");
		const pathState = pathStateRef(cx, raw.report, [...path, "report"]);
		if (!pathState) return undefined;
		const message = messageRef(cx, raw.message, [...path, "message"]);
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoded);
		if (!message || !assignments) return undefined;
		const values = message.kind === "checker" ? message.message.values : undefined;
		if (!values) {
			if (raw.value !== undefined) {
				input.error([...path, "value"], `message '${message.key}' has no values: a value picks one of a message's values`);
				return undefined;
			}
			return { kind: "report", pathState, message, assignments };
		}
		if (raw.value === undefined) {
			input.error([...path, "message"], `message '${message.key}' has values: the report needs a value, { data: FIELD } or { context: FIELD }`);
			return undefined;
		}
		// checked as if assigned to a number field of the largest type
		const as: ContextFieldModel = { key: `value of message '${message.key}'`, type: "u32", length: 0, scope: { kind: "path" }, init: 0, max: 0xffffffff, bounded: false, loc: input.locate(path) };
		const messageValue = assignedValue(cx, as, raw.value, [...path, "value"], decoded);
		if (!messageValue || messageValue.kind === "dataBytes" || messageValue.kind === "contextBytes") return undefined;
		if (messageValue.kind === "const" || messageValue.max >= values.length) {
			const max = messageValue.kind === "const" ? messageValue.value : messageValue.max;
			input.error(
				[...path, "value"],
				`message '${message.key}' has texts for the values 0..${values.length - 1}; this value may be ${max}${messageValue.kind === "const" ? " (a constant: use a message without values)" : " (bound the field with max, or give a text to each value)"}`,
			);
			return undefined;
		}
		return { kind: "report", pathState, message, assignments, messageValue };
	}
	if ("done" in raw) {
		input.onlyKeys(raw, ["done", "set", "log"], path, "done property");
		if (raw.done !== true) {
			input.error([...path, "done"], "done ends the init: write { done: true }");
			return undefined;
		}
		if (raw.log !== undefined && (typeof raw.log !== "string" || raw.log.trim() === "" || /["\\%\n]/.test(raw.log))) {
			input.error([...path, "log"], "log is one line of text, without quotes, backslashes or %");
			return undefined;
		}
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoded);
		if (!assignments) return undefined;
		return { kind: "done", assignments, ...(raw.log !== undefined ? { log: raw.log as string } : {}) };
	}
	if ("goto" in raw) {
		input.onlyKeys(raw, ["goto", "set"], path, "goto property");
		const target = stateRef(cx, raw.goto, [...path, "goto"], "goto to");
		if (!target) return undefined;
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoded);
		if (!assignments) return undefined;
		return { kind: "goto", target, assignments };
	}
	input.error(path, "an outcome is { report, message }, { goto }, { retry, whenExhausted } or (in init states) { done: true }");
	return undefined;
}

export function parseOutcome(
	cx: CheckerScope,
	raw: unknown,
	path: ValuePath,
	state: StateModel,
	decoded: DecodedFacts | undefined,
): OutcomeModel | undefined {
	const { input } = cx;
	if (isRecord(raw) && "retry" in raw) {
		if (state.kind === "decision") {
			input.error(path, "a decision state cannot retry: it sends no command");
			return undefined;
		}
		input.onlyKeys(raw, ["retry", "goto", "set", "whenExhausted"], path, "retry property");
		const budget = typeof raw.retry === "string" ? cx.budgets.get(raw.retry) : undefined;
		if (!budget) {
			const known = [...cx.budgets.keys()];
			input.error(
				[...path, "retry"],
				known.length === 0
					? `retry without a budget: declare retryBudgets: { ${String(raw.retry)}: { maxRetries: N } }`
					: `retry from unknown budget ${JSON.stringify(raw.retry)}${didYouMean(String(raw.retry), known)} (budgets: ${known.join(", ")})`,
			);
			return undefined;
		}
		cx.used.budgets.add(budget.key);
		const target = raw.goto === undefined ? state : stateRef(cx, raw.goto, [...path, "goto"], "retry in");
		if (!target) return undefined;
		if (raw.whenExhausted === undefined) {
			input.error(path, "a retry needs whenExhausted: \"fallthrough\" or the outcome once the budget is spent");
			return undefined;
		}
		const assignments = parseAssignments(cx, raw.set, [...path, "set"], decoded);
		const exhausted =
			raw.whenExhausted === "fallthrough"
				? null
				: parseFinalOutcome(cx, raw.whenExhausted, [...path, "whenExhausted"], decoded);
		if (!assignments || exhausted === undefined) return undefined;
		return { kind: "retry", budget, target, assignments, exhausted };
	}
	return parseFinalOutcome(cx, raw, path, decoded);
}
