// The decoders a state applies to its command's data: the decoder's model
// (outcomes, fields, inputs) from the decoder table, and how the state uses
// it (inputs from context fields, stores of decoded fields).
import { didYouMean } from "./diagnostics.ts";
import { DECODERS, type AnyDecoder } from "../spec/decoders.ts";
import { buildDecoderModel, type DecoderError } from "./decoder-program.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { isRecord } from "./input.ts";
import { parseAssignments } from "./checker-outcomes.ts";
import type { ValuePath } from "./source-index.ts";
import type { DecoderFieldModel, DecoderModel, DecoderUseModel } from "./types.ts";

const models = new WeakMap<object, DecoderModel>();

/** The model of a declared decoder, built once per declaration (the library's are shared by every spec). */
export function decoderModel(name: string, decl: AnyDecoder, err: DecoderError): DecoderModel | undefined {
	let m = models.get(decl);
	if (!m) {
		m = buildDecoderModel(name, decl, err);
		if (m) models.set(decl, m);
	}
	return m;
}

/** The model of a library decoder (spec/decoders.ts DECODERS), by name. */
export function libraryDecoder(name: string): DecoderModel | undefined {
	const decl = (DECODERS as Record<string, AnyDecoder>)[name];
	if (!decl) return undefined;
	return decoderModel(name, decl, (path, message) => {
		throw new Error(`library decoder ${name}: ${path.join(".")}: ${message}`);
	});
}

/** The spec's own decoders, validated with located diagnostics (once per spec). */
export function buildSpecDecoders(cx: CheckerScope): void {
	const raw = cx.spec.decoders;
	if (raw === undefined) return;
	if (!isRecord(raw)) {
		cx.input.error(["decoders"], "decoders maps names to defineDecoder() declarations");
		return;
	}
	for (const [name, decl] of Object.entries(raw)) {
		if (!cx.input.identifier(name, ["decoders", name], "decoder")) continue;
		const m = decoderModel(name, decl as AnyDecoder, (path, message) => cx.input.error(["decoders", name, ...path], message));
		if (m) cx.decoders.set(name, m);
	}
}

export function buildDecoderUse(cx: CheckerScope, raw: Record<string, unknown>, path: ValuePath): DecoderUseModel | undefined {
	const { input } = cx;
	const name = raw.decoder as string;
	const own = isRecord(cx.spec.decoders) && name in cx.spec.decoders;
	const decoder = own ? cx.decoders.get(name) : typeof name === "string" ? libraryDecoder(name) : undefined;
	if (!decoder) {
		// a spec's own decoder with errors has been reported where it is declared
		if (!own) {
			const known = [...new Set([...cx.decoders.keys(), ...Object.keys(DECODERS)])];
			input.error([...path, "decoder"], `unknown decoder ${JSON.stringify(name)}${didYouMean(String(name), known)} (known: ${known.join(", ")})`);
		}
		return undefined;
	}
	const inputs: DecoderUseModel["inputs"][number][] = [];
	const rawInputs = isRecord(raw.decoderInputs) ? raw.decoderInputs : {};
	for (const spec of decoder.inputs) {
		const { key } = spec;
		const src = rawInputs[key];
		const f = isRecord(src) && typeof src.context === "string" ? cx.context.get(src.context) : undefined;
		if (!f) {
			input.error([...path, "decoderInputs", key], `decoder ${name} needs input '${key}' from a context field: { context: FIELD }`);
			return undefined;
		}
		if (f.type === "bytes" || spec.type === "bytes") {
			if (f.type !== spec.type || f.length !== spec.length) {
				const t = (x: { type: string; length: number }) => (x.type === "bytes" ? `${x.length} bytes` : x.type);
				input.error([...path, "decoderInputs", key], `input '${key}' is ${t(spec)}; field '${f.key}' is ${t(f)}`);
				return undefined;
			}
		} else if ((f.type === "bool") !== (spec.type === "bool")) {
			input.error([...path, "decoderInputs", key], `input '${key}' is ${spec.type}; field '${f.key}' is ${f.type}`);
			return undefined;
		}
		cx.used.fields.add(f.key);
		inputs.push({ key, field: f });
	}
	for (const k of Object.keys(rawInputs)) {
		if (!decoder.inputs.some((i) => i.key === k)) input.error([...path, "decoderInputs", k], `decoder ${name} has no input '${k}'`);
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
