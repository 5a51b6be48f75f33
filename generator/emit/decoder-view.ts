// A decoder as the checker template needs it: the result struct and outcome
// enum (from the decoder's metadata in spec/decoders.ts) and the name of the
// template that holds its hand-written C body (templates/decoders/).
import type { DecoderUseModel } from "../model/types.ts";
import { DECODERS, type DecoderInfo } from "../spec/decoders.ts";
import { comment } from "./c-writer.ts";
import { snakeCase } from "../model/names.ts";

const C_TYPES: Record<string, string> = {
	bool: "bool",
	u8: "unsigned char",
	u16: "unsigned short",
	u32: "unsigned int",
};

export interface DecoderView {
	name: string;
	/** The template with the decoder's C function: templates/decoders/NAME.c.hbs. */
	template: string;
	fn: string;
	resultStruct: string;
	outcomeEnum: string;
	outcomeConstants: string[];
	notDecoded: string;
	fieldByKey: Record<string, { cName: string; type: string; cType: string }>;
	/** The enum and struct declarations, as lines. */
	declarations: string[];
	/** Arguments after (buf, len) for a call, taken from the context. */
	inputArgs: string[];
	/** Names for the outcome constants and fields, used by the function template. */
	c: Record<string, string>;
}

export function decoderView(use: DecoderUseModel): DecoderView {
	const info = (DECODERS as Record<string, DecoderInfo>)[use.name];
	const resultStruct = `${info.cName}_data`;
	const macro = info.cName.toUpperCase();
	const outcomeConstants = use.outcomes.map((o) => o.cName);
	const notDecoded = `${macro}_NOT_DECODED`;
	const fieldByKey: DecoderView["fieldByKey"] = {};
	const fields: string[] = [];
	for (const [, o] of Object.entries(info.outcomes)) {
		for (const [key, f] of Object.entries(o.fields)) {
			if (fieldByKey[key]) continue;
			fieldByKey[key] = { cName: snakeCase(key), type: f.type, cType: C_TYPES[f.type] };
			fields.push(...comment(f.doc, 1), `\t${C_TYPES[f.type]} ${snakeCase(key)};`);
		}
	}
	const declarations = [
		...comment(`What ${use.name} found: ${info.doc}`, 0),
		`enum ${info.cName}_outcome {`,
		...use.outcomes.flatMap((o) => [...comment(info.outcomes[o.key].doc, 1), `\t${o.cName},`]),
		...comment("the answer was not GOOD: nothing was decoded", 1),
		`\t${notDecoded},`,
		"};",
		"",
		`struct ${resultStruct} {`,
		`\tenum ${info.cName}_outcome outcome;`,
		...fields,
		"};",
	];
	const c: Record<string, string> = { fn: `decode_${info.cName}`, struct: resultStruct, notDecoded };
	for (const o of use.outcomes) c[o.key] = o.cName;
	return {
		name: use.name,
		template: `decoders/${use.name}.c.hbs`,
		fn: `decode_${info.cName}`,
		resultStruct,
		outcomeEnum: `${info.cName}_outcome`,
		outcomeConstants,
		notDecoded,
		fieldByKey,
		declarations,
		inputArgs: use.inputs.map((i) => `ctx->${i.field.cName}`),
		c,
	};
}
