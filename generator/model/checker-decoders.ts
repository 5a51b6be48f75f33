// The decoders a state applies to its command's data: the decoder's model
// (outcomes, fields, inputs) from the decoder table, and how the state uses
// it (inputs from context fields, stores of decoded fields).
import { didYouMean } from "./diagnostics.ts";
import { FIELD_TYPES } from "../abi/c-layout.ts";
import { DECODERS, type DecoderInfo } from "../spec/decoders.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { isRecord } from "./input.ts";
import { parseAssignments } from "./checker-outcomes.ts";
import type { ValuePath } from "./source-index.ts";
import type { DecoderFieldModel, DecoderModel, DecoderUseModel } from "./types.ts";

const models = new Map<string, DecoderModel>();

/** The model of a decoder of the table, built once. */
export function decoderModel(name: string): DecoderModel | undefined {
	const info = (DECODERS as Record<string, DecoderInfo>)[name];
	if (!info) return undefined;
	let m = models.get(name);
	if (!m) {
		const fields = new Map<string, DecoderFieldModel>();
		const outcomes = Object.entries(info.outcomes).map(([key, o], index) => ({
			key,
			index,
			doc: o.doc,
			fields: Object.entries(o.fields).map(([fk, f]) => {
				let field = fields.get(fk);
				if (!field) {
					field = { key: fk, type: f.type, max: "max" in f && f.max !== undefined ? f.max : FIELD_TYPES[f.type].max, doc: f.doc };
					fields.set(fk, field);
				}
				return field;
			}),
		}));
		m = {
			name,
			shortName: info.cName,
			doc: info.doc,
			outcomes,
			fields: [...fields.values()],
			inputs: Object.entries(info.inputs).map(([key, i]) => ({ key, doc: i.doc })),
			minDataLength: info.minDataLength,
		};
		models.set(name, m);
	}
	return m;
}

export function buildDecoderUse(cx: CheckerScope, raw: Record<string, unknown>, path: ValuePath): DecoderUseModel | undefined {
	const { input } = cx;
	const name = raw.decoder as string;
	const decoder = decoderModel(name);
	const info = (DECODERS as Record<string, DecoderInfo>)[name];
	if (!decoder || !info) {
		input.error([...path, "decoder"], `unknown decoder ${JSON.stringify(name)}${didYouMean(String(name), Object.keys(DECODERS))} (known: ${Object.keys(DECODERS).join(", ")})`);
		return undefined;
	}
	const inputs: DecoderUseModel["inputs"][number][] = [];
	const rawInputs = isRecord(raw.decoderInputs) ? raw.decoderInputs : {};
	for (const [key, spec] of Object.entries(info.inputs)) {
		const src = rawInputs[key];
		const f = isRecord(src) && typeof src.context === "string" ? cx.context.get(src.context) : undefined;
		if (!f) {
			input.error([...path, "decoderInputs", key], `decoder ${name} needs input '${key}' from a context field: { context: FIELD }`);
			return undefined;
		}
		if ((f.type === "bool") !== (spec.type === "bool")) {
			input.error([...path, "decoderInputs", key], `input '${key}' is ${spec.type}; field '${f.key}' is ${f.type}`);
			return undefined;
		}
		cx.used.fields.add(f.key);
		inputs.push({ key, field: f });
	}
	for (const k of Object.keys(rawInputs)) {
		if (!(k in info.inputs)) input.error([...path, "decoderInputs", k], `decoder ${name} has no input '${k}'`);
	}
	const store: DecoderUseModel["store"][number][] = [];
	if (raw.store !== undefined) {
		if (!isRecord(raw.store)) {
			input.error([...path, "store"], "store maps decoder outcomes to { contextField: outcomeField | value }");
			return undefined;
		}
		for (const [key, assignRaw] of Object.entries(raw.store)) {
			const spath = [...path, "store", key];
			const outcome = decoder.outcomes.find((o) => o.key === key);
			if (!outcome) {
				input.error(spath, `decoder ${name} has no outcome '${key}'`);
				return undefined;
			}
			if (!isRecord(assignRaw)) {
				input.error(spath, "store maps context fields to outcome fields or values");
				return undefined;
			}
			const converted: Record<string, unknown> = {};
			for (const [k, v] of Object.entries(assignRaw)) converted[k] = typeof v === "string" ? { data: v } : v;
			const assignments = parseAssignments(cx, converted, spath, { decoder, outcomes: [outcome.index] });
			if (!assignments) return undefined;
			store.push({ outcome, assignments });
		}
	}
	return { decoder, inputs, store };
}
