// The declarations of a checker spec the rules refer to: its messages,
// retry budgets and per-path context fields.
import { ABI_015_DETAILS } from "../abi/profiles.ts";
import { FIELD_TYPES, structSize } from "../abi/c-layout.ts";
import { isRecord } from "./input.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { MAX_BYTES } from "./decoder-program.ts";
import type { ContextScope, NumericFieldType } from "./types.ts";

/** The most checker-specific messages a msgtable can hold. */
export const MAX_CHECKER_MESSAGES = 100;

export function buildMessages(cx: CheckerScope): void {
	const { input, spec } = cx;
	const entries = Object.entries(spec.messages ?? {});
	// a message with values takes one msgtable entry per value
	const count = (m: unknown) => (isRecord(m) && Array.isArray(m.values) && m.values.length > 0 ? m.values.length : 1);
	const total = entries.reduce((n, [, m]) => n + count(m), 0);
	if (total > MAX_CHECKER_MESSAGES) {
		input.error(
			["messages"],
			`${total} checker messages${total > entries.length ? " (with one per value of a message with values)" : ""}: a msgtable holds at most ${MAX_CHECKER_MESSAGES} (CHECKER_MSGTABLE_SIZE)`,
		);
	}
	let next = cx.profiles[0].firstMessageId;
	const generic = new Set(cx.profiles.flatMap((p) => p.genericMessages.map(([n]) => n)));
	entries.forEach(([key, m]) => {
		const id = next;
		next += count(m);
		const path = ["messages", key];
		if (!input.identifier(key, path, "message")) return;
		if (generic.has(key)) input.error(path, `message '${key}' has the name of a generic message ID`);
		if (!isRecord(m) || typeof m.text !== "string") {
			input.error(path, `message '${key}' needs a text: { text: " reports …" }`);
			return;
		}
		input.onlyKeys(m, ["text", "values", "doc"], path, "message property");
		let values: string[] | undefined;
		if (m.values !== undefined) {
			if (!Array.isArray(m.values) || m.values.length < 2 || !m.values.every((v) => typeof v === "string" && !/["\\\n%]/.test(v))) {
				input.error([...path, "values"], "values lists the text of each value 0, 1, …: at least two strings, without quotes, backslashes, newlines or %");
				return;
			}
			if ((m.text.match(/%s/g) ?? []).length !== 1) {
				input.error([...path, "text"], `message '${key}' has values: its text holds %s once, where the value's text goes`);
				return;
			}
			values = m.values as string[];
		} else if (m.text.includes("%")) {
			input.error([...path, "text"], `message text holds %: only a message with values has one (%s, where the value's text goes)`);
			return;
		}
		if (!/^[ :]/.test(m.text)) {
			input.error([...path, "text"], `message text must start with a space or a colon (it follows "${spec.name} checker")`);
		}
		if (/["\\\n]/.test(m.text)) input.error([...path, "text"], "message text must not contain quotes, backslashes or newlines");
		cx.messages.set(key, {
			key,
			id,
			text: m.text,
			...(values ? { values } : {}),
			doc: input.doc(path, m.doc),
			loc: input.locate(path),
		});
	});
}

export function buildBudgets(cx: CheckerScope): void {
	const { input, spec } = cx;
	for (const [key, budget] of Object.entries(spec.retryBudgets ?? {})) {
		const path = ["retryBudgets", key];
		if (!input.identifier(key, path, "retry budget")) continue;
		if (!isRecord(budget) || !Number.isInteger(budget.maxRetries)) {
			input.error(path, `retry budget '${key}' needs an integer maxRetries`);
			continue;
		}
		input.onlyKeys(budget, ["maxRetries", "doc"], path, "retry budget property");
		const max = budget.maxRetries as number;
		if (max < 1 || max > 100) input.error([...path, "maxRetries"], `retry budget '${key}': maxRetries must be 1..100, not ${max}`);
		cx.budgets.set(key, { key, maxRetries: max, doc: input.doc(path, budget.doc), loc: input.locate(path) });
	}
}

export function buildContext(cx: CheckerScope): void {
	const { input, spec } = cx;
	let mapBits = 0;
	for (const [key, f] of Object.entries(spec.context ?? {})) {
		const path = ["context", key];
		if (!input.identifier(key, path, "context field")) continue;
		if (!isRecord(f) || typeof f.type !== "string" || !(f.type in FIELD_TYPES || f.type === "bytes")) {
			input.error(path, `context field '${key}' needs a type: one of ${[...Object.keys(FIELD_TYPES), "bytes"].join(", ")}`);
			continue;
		}
		if (f.type === "bytes") {
			input.onlyKeys(f, ["type", "length", "scope", "doc"], path, "bytes context field property");
			if (f.scope !== undefined && f.scope !== "path") {
				input.error([...path, "scope"], `context field '${key}': a bytes field is the path's own (scope "path"): the map's context is one long`);
			}
			if (typeof f.length !== "number" || !Number.isInteger(f.length) || f.length < 1 || f.length > MAX_BYTES) {
				input.error([...path, "length"], `context field '${key}': a bytes field needs a length, 1..${MAX_BYTES} bytes`);
				continue;
			}
			cx.context.set(key, { key, type: "bytes", length: f.length, scope: { kind: "path" }, init: 0, max: 0, bounded: false, doc: input.doc(path, f.doc), loc: input.locate(path) });
			continue;
		}
		input.onlyKeys(f, ["type", "scope", "init", "max", "doc"], path, "context field property");
		if (f.scope !== undefined && f.scope !== "path" && f.scope !== "map") {
			input.error([...path, "scope"], `context field '${key}': scope must be "path" or "map", not ${JSON.stringify(f.scope)}`);
		}
		const type = f.type as NumericFieldType;
		const t = FIELD_TYPES[type];
		let max: number = t.max;
		let bounded = false;
		if (f.max !== undefined) {
			if (type === "bool") input.error([...path, "max"], `context field '${key}': a bool has no max`);
			else if (!Number.isInteger(f.max) || (f.max as number) < 1 || (f.max as number) > t.max) {
				input.error([...path, "max"], `context field '${key}': max must be an integer in 1..${t.max}`);
			} else {
				max = f.max as number;
				bounded = true;
			}
		}
		let init = 0;
		if (f.init !== undefined) {
			if (type === "bool") {
				if (typeof f.init !== "boolean") input.error([...path, "init"], `context field '${key}': init must be true or false`);
				else init = f.init ? 1 : 0;
			} else if (!Number.isInteger(f.init) || (f.init as number) < 0 || (f.init as number) > max) {
				input.error([...path, "init"], `context field '${key}': init must be an integer in 0..${max}`);
			} else init = f.init as number;
		}
		let scope: ContextScope = { kind: "path" };
		if (f.scope === "map") {
			// packed into the map's long, from bit 0, in the order declared
			const bits = Math.max(1, Math.ceil(Math.log2(max + 1)));
			const limit = ABI_015_DETAILS.mpcontextBits;
			if (mapBits + bits > limit) {
				input.error(
					[...path, "scope"],
					`context field '${key}': the map context is one long (union checker_mpcontext, -1 meaning unset, 32 bits on 32-bit machines): its fields take at most ${limit} bits, and with '${key}' (${bits}) they would take ${mapBits + bits}`,
				);
			}
			scope = { kind: "map", shift: mapBits, bits };
			mapBits += bits;
		}
		cx.context.set(key, { key, type, length: 0, scope, init, max, bounded, doc: input.doc(path, f.doc), loc: input.locate(path) });
	}
	const size = structSize([...cx.context.values()].filter((f) => f.scope.kind === "path"));
	if (size > ABI_015_DETAILS.maxContextSize) {
		input.error(["context"], `the context takes ${size} bytes; at most ${ABI_015_DETAILS.maxContextSize} are allowed`);
	}
}
