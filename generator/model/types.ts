// The validated model: plain typed data that every emitter (C, and later
// diagrams and spin models) and the TS interpreter read. Nothing downstream
// of the model looks at a spec again. Names for C are computed here, once.
import type { Interval, IntervalSet } from "./intervals.ts";

export interface SourceLocation {
	/** Path relative to the working directory, e.g. "specs/tur.ts". */
	file: string;
	line: number;
	column: number;
}

export type FactKind =
	| "errno"
	| "status"
	| "sgInfo"
	| "hostStatus"
	| "senseKey"
	| "senseCode"
	| "context"
	| "dataOutcome"
	| "dataField";

export interface FactRef {
	kind: FactKind;
	/** The context field or decoder field, for "context" and "dataField". */
	name?: string;
	domain: Interval;
}

export interface ConditionModel {
	fact: FactRef;
	/** The values that satisfy the condition. */
	allowed: IntervalSet;
	/** The values as the spec wrote them, for readable C. */
	written: readonly number[];
	/** The spec listed the values to exclude. */
	negated: boolean;
	/** Added by the model (e.g. "the ioctl succeeded"), not written. */
	implied: boolean;
}

export interface PathStateRef {
	name: string;
	value: number;
}

export interface MessageRef {
	kind: "generic" | "checker";
	/** The spec's name: "UP" or a key of `messages`. */
	key: string;
	/** CHECKER_MSGID_UP or MSG_TUR_TRANSITIONING. */
	cName: string;
	id: number;
	text: string;
}

/** A value assigned to a context field; `max` is the largest the source can hold. */
export type AssignedValueModel =
	| { kind: "const"; value: number }
	| { kind: "data"; field: string; max: number }
	| { kind: "context"; field: string; max: number };

export interface AssignmentModel {
	field: ContextFieldModel;
	value: AssignedValueModel;
}

export type FinalOutcomeModel =
	| { kind: "report"; pathState: PathStateRef; message: MessageRef; assignments: AssignmentModel[] }
	| { kind: "goto"; target: string; assignments: AssignmentModel[] };

export type OutcomeModel =
	| FinalOutcomeModel
	| {
			kind: "retry";
			budget: BudgetModel;
			target: string;
			assignments: AssignmentModel[];
			/** null: fall through to the next rules when the budget is spent. */
			exhausted: FinalOutcomeModel | null;
	  };

export interface RuleModel {
	/** Position in the state's rule list, from 0. */
	index: number;
	doc?: string;
	loc: SourceLocation;
	/** All conditions, written and implied, one per fact. */
	conditions: ConditionModel[];
	/** The conditions C must still test at this rule (see `known`). */
	emittedConditions: ConditionModel[];
	outcome: OutcomeModel;
	/** Whether a matching answer always ends the rule list here. */
	terminal: boolean;
}

export interface ContextFieldModel {
	key: string;
	cName: string;
	type: "bool" | "u8" | "u16" | "u32";
	cType: string;
	init: number;
	/** The largest value the field may hold. */
	max: number;
	/** How C names the max: a macro for a spec-given bound, else the number. */
	maxMacro: string;
	doc?: string;
}

export interface BudgetModel {
	key: string;
	/** The counter in the per-check struct. */
	cName: string;
	/** The limit macro. */
	cMacro: string;
	maxRetries: number;
	doc?: string;
}

export interface MessageModel {
	key: string;
	cName: string;
	id: number;
	text: string;
	doc?: string;
	loc: SourceLocation;
}

export type CdbByteModel =
	| { kind: "const"; value: number }
	| { kind: "context"; field: ContextFieldModel; ifSet: number; ifClear: number }
	| { kind: "allocationLength"; shift: number };

export interface CommandModel {
	name: string;
	cdb: CdbByteModel[];
	direction: "none" | "toDevice" | "fromDevice";
	dxferCName: string;
	dxferValue: number;
	dataLength: { kind: "const"; value: number } | { kind: "context"; field: ContextFieldModel };
	/** The largest data length the command can use (for buffer sizing). */
	maxDataLength: number;
	senseLength: number;
}

export interface DecoderUseModel {
	name: string;
	cFunction: string;
	outcomes: { key: string; cName: string; index: number; fields: { key: string; cName: string; type: string }[] }[];
	inputs: { key: string; cName: string; field: ContextFieldModel }[];
	/** Context fields stored per outcome, right after decoding. */
	store: { outcome: string; assignments: AssignmentModel[] }[];
}

export interface StateModel {
	kind: "command" | "decision";
	key: string;
	/** snake_case of the key. */
	cName: string;
	/** The step enum constant, e.g. TUR_STEP_TEST_UNIT_READY. */
	stepName: string;
	/** The state function, e.g. tur_test_unit_ready. */
	fnName: string;
	doc?: string;
	loc: SourceLocation;
	command?: CommandModel;
	decoder?: DecoderUseModel;
	rules: RuleModel[];
}

export interface CheckerModel {
	kind: "checker";
	name: string;
	/** C identifier prefix (the name). */
	cPrefix: string;
	/** Upper-case prefix for macros and enum constants. */
	cMacroPrefix: string;
	description: string;
	copyright: string;
	/** The spec file, relative to the working directory. */
	specFile: string;
	targets: string[];
	messages: MessageModel[];
	budgets: BudgetModel[];
	context: ContextFieldModel[];
	/** Bytes of the context struct as C lays it out (x86_64). */
	contextSize: number;
	states: StateModel[];
	initial: string;
	/** Whether any state sends a command with data. */
	usesDataBuffer: boolean;
	/** The largest data buffer any state needs. */
	maxDataLength: number;
	/** Decoders used by any state, each once. */
	decoders: string[];
}

export interface RunnerStateModel {
	key: string;
	cName: string;
	value: number;
	name: string;
	doc: string;
	terminal: boolean;
}

export interface RunnerCaseModel {
	from: RunnerStateModel;
	when?: { key: string; doc: string };
	await?: { key: string; doc: string };
	to?: RunnerStateModel;
	effects: { key: string; doc: string }[];
	call?: string;
	returns: RunnerStateModel;
	doc?: string;
	loc: SourceLocation;
}

export interface RunnerOperationModel {
	key: string;
	cName: string;
	actor: "thread" | "caller";
	doc: string;
	/** Cases grouped by state, in state order; within a state, in spec order. */
	byState: { state: RunnerStateModel; cases: RunnerCaseModel[] }[];
	loc: SourceLocation;
}

export interface RunnerModel {
	kind: "runner";
	description: string;
	copyright: string;
	specFile: string;
	states: RunnerStateModel[];
	initial: string;
	operations: RunnerOperationModel[];
	stackSize: number;
	maxNrTimeouts: number;
}

export type SpecModel = CheckerModel | RunnerModel;
