// What the parts of the checker builder share while one spec is read: the
// spec, its target profiles, the declarations built so far, and what the
// rules used (for the unused-item checks).
import type { AbiProfile } from "../abi/profiles.ts";
import type { CheckerSpec } from "../spec/checker.ts";
import type { SpecInput } from "./input.ts";
import type { BudgetModel, ContextFieldModel, DecoderModel, MessageModel, RuleModel, StateModel } from "./types.ts";

/** A state while its rules are being built: the rules are filled in last, so gotos can point at any state. */
export type StateUnderConstruction = StateModel & { rules: RuleModel[] };

export interface CheckerScope {
	readonly input: SpecInput;
	readonly spec: CheckerSpec;
	readonly profiles: readonly AbiProfile[];
	readonly messages: Map<string, MessageModel>;
	readonly budgets: Map<string, BudgetModel>;
	readonly context: Map<string, ContextFieldModel>;
	/** The spec's own decoders (the library's are looked up by name). */
	readonly decoders: Map<string, DecoderModel>;
	readonly states: Map<string, StateUnderConstruction>;
	readonly used: { messages: Set<string>; budgets: Set<string>; fields: Set<string> };
}
