// The validated model: readonly, discriminated data that every emitter (C
// through the lowering stage, and later diagrams and spin models) and the TS
// interpreter read. Nothing downstream of the model looks at a spec again.
// The model speaks the domain only: no C identifier and no C layout is
// decided here (generator/lower/ owns those).
import type { Diagnostic } from "./diagnostics.ts";
import type { Interval, IntervalSet } from "./intervals.ts";

export interface SourceLocation {
	/** Path relative to the working directory, e.g. "specs/tur.ts". */
	readonly file: string;
	readonly line: number;
	readonly column: number;
}

/** A value a rule compares with, and the vocabulary name it was written as. */
export interface WrittenValue {
	readonly value: number;
	/** "ENOTTY", "DID_OK", "UNIT_ATTENTION"…; absent for plain numbers. */
	readonly symbol?: string;
}

/** The facts about one answer a rule can test; each kind has its domain. */
export type AnswerFactKind = "errno" | "status" | "sgInfo" | "hostStatus" | "driverStatus" | "senseKey" | "senseCode";

export type FactRef =
	| { readonly kind: AnswerFactKind; readonly domain: Interval }
	| { readonly kind: "context"; readonly field: ContextFieldModel; readonly domain: Interval }
	| { readonly kind: "dataOutcome"; readonly decoder: DecoderModel; readonly domain: Interval }
	| { readonly kind: "dataField"; readonly field: DecoderFieldModel; readonly domain: Interval };

export type FactKind = FactRef["kind"];

/** One fact a rule tests. */
export interface ConditionModel {
	readonly fact: FactRef;
	/** The values that satisfy the condition. */
	readonly allowed: IntervalSet;
	/** The values as the spec wrote them (empty where intervals say it all, e.g. sense codes). */
	readonly written: readonly WrittenValue[];
	/** The spec listed the values to exclude. */
	readonly negated: boolean;
	/** Added by the model (e.g. "the ioctl succeeded"), not written. */
	readonly implied: boolean;
	/** How a test without listed values was written: a range, or a bit test `(x & mask) == value` (negated: `!=`). */
	readonly form?: { readonly kind: "range"; readonly lo: number; readonly hi: number } | { readonly kind: "bits"; readonly mask: number; readonly value: number };
}

/** The identity of a fact: conditions on the same fact share it. */
export function factKey(f: FactRef): string {
	switch (f.kind) {
		case "context":
			return `context:${f.field.key}`;
		case "dataField":
			return `dataField:${f.field.key}`;
		default:
			return f.kind;
	}
}

export interface PathStateRef {
	/** The ABI's name, e.g. "PATH_UP". */
	readonly name: string;
	readonly value: number;
}

export type MessageRef =
	| { readonly kind: "generic"; readonly key: string; readonly id: number; readonly text: string }
	| { readonly kind: "checker"; readonly message: MessageModel; readonly key: string; readonly id: number; readonly text: string };

export type AssignedValueModel =
	| { readonly kind: "const"; readonly value: number }
	| { readonly kind: "data"; readonly field: DecoderFieldModel; readonly max: number }
	| { readonly kind: "context"; readonly field: ContextFieldModel; readonly max: number }
	/** A bytes field's bytes, copied whole (into a bytes field of the same length). */
	| { readonly kind: "dataBytes"; readonly field: DecoderFieldModel }
	| { readonly kind: "contextBytes"; readonly field: ContextFieldModel };

/** A store into a context field; `value.max` larger than the field's max means the store clamps. */
export interface AssignmentModel {
	readonly field: ContextFieldModel;
	readonly value: AssignedValueModel;
}

export type FinalOutcomeModel =
	| {
			readonly kind: "report";
			readonly pathState: PathStateRef;
			readonly message: MessageRef;
			readonly assignments: readonly AssignmentModel[];
			/** For a message with values: what picks the entry (read after the assignments). */
			readonly messageValue?: AssignedValueModel;
	  }
	| {
			readonly kind: "goto";
			readonly target: StateModel;
			readonly assignments: readonly AssignmentModel[];
			/** Logged at level 3 on the way (a done of an init run at the first check keeps its log). */
			readonly log?: string;
	  }
	/** The end of the checker's init (init states only): no path state is reported; `log` is logged at level 3. */
	| { readonly kind: "done"; readonly assignments: readonly AssignmentModel[]; readonly log?: string };

export type OutcomeModel =
	| FinalOutcomeModel
	| {
			readonly kind: "retry";
			readonly budget: BudgetModel;
			readonly target: StateModel;
			readonly assignments: readonly AssignmentModel[];
			/** null: fall through to the next rules when the budget is spent. */
			readonly exhausted: FinalOutcomeModel | null;
	  };

export interface RuleModel {
	/** Position in the state's rule list, from 0. */
	readonly index: number;
	readonly doc?: string;
	readonly loc: SourceLocation;
	/** All conditions, written and implied, one per fact. */
	readonly conditions: readonly ConditionModel[];
	readonly outcome: OutcomeModel;
	/** Whether a matching answer always ends the rule list here. */
	readonly terminal: boolean;
}

/** The types of a number (a bool is 0 or 1). */
export type NumericFieldType = "bool" | "u8" | "u16" | "u32";
/** A number, or bytes kept as they are (a fixed length, e.g. a WWN). */
export type ContextFieldType = NumericFieldType | "bytes";

export type ContextScope = { readonly kind: "path" } | { readonly kind: "map"; readonly shift: number; readonly bits: number };

export interface ContextFieldModel {
	readonly key: string;
	readonly type: ContextFieldType;
	/** A bytes field: how many bytes; 0 for a number. */
	readonly length: number;
	/**
	 * "path": the path's own context; "map": shared by the paths of the map,
	 * packed into the map's context (a long; `shift` is the field's lowest bit).
	 */
	readonly scope: ContextScope;
	readonly init: number;
	/** The largest value the field may hold. */
	readonly max: number;
	/** Whether the spec gave `max` (rather than the type's). */
	readonly bounded: boolean;
	readonly doc?: string;
	readonly loc: SourceLocation;
}

export interface BudgetModel {
	readonly key: string;
	readonly maxRetries: number;
	readonly doc?: string;
	readonly loc: SourceLocation;
}

export interface MessageModel {
	readonly key: string;
	/** The id of its first msgtable entry. */
	readonly id: number;
	/** The text; with values, "%s" marks where a value's text goes. */
	readonly text: string;
	/** A message with values has one msgtable entry per value: the text with values[k] for %s, id + k. */
	readonly values?: readonly string[];
	readonly doc?: string;
	readonly loc: SourceLocation;
}

/** A named CDB constant (an opcode, a flag, a page code) of the SCSI vocabulary. */
export interface CdbSymbolModel {
	readonly name: string;
	readonly value: number;
	/** The system header that defines it, if one does. */
	readonly header?: string;
	readonly doc: string;
}

export type CdbByteModel =
	| {
			readonly kind: "const";
			readonly value: number;
			/** The symbols OR-ed together to make the value, when the command names them. */
			readonly symbols: readonly CdbSymbolModel[];
	  }
	| {
			readonly kind: "context";
			readonly field: ContextFieldModel;
			readonly ifSet: number;
			readonly ifSetSymbols: readonly CdbSymbolModel[];
			readonly ifClear: number;
			readonly ifClearSymbols: readonly CdbSymbolModel[];
	  }
	| { readonly kind: "allocationLength"; readonly shift: number }
	/** A byte of a numeric context field: `(field >> shift) & 0xff`. */
	| { readonly kind: "contextByte"; readonly field: ContextFieldModel; readonly shift: number };

export type PayloadByteModel =
	| { readonly kind: "const"; readonly value: number }
	| { readonly kind: "contextByte"; readonly field: ContextFieldModel; readonly shift: number }
	/** The byte the earlier command (or the source state) read, `(byte & and) | or`. */
	| { readonly kind: "earlier"; readonly and: number; readonly or: number };

/**
 * The data a toDevice command sends: the data buffer, from zeros or as the
 * command before read it, or the data the source state read last (in its
 * own buffer, changed in place), with bytes set.
 */
export interface PayloadModel {
	readonly from: "zeros" | "dataReadEarlier" | "dataReadIn";
	/** "dataReadIn": the fromDevice command state whose data is sent. */
	readonly source?: CommandStateModel;
	/** By offset, ascending; each below the command's data length. */
	readonly bytes: readonly { readonly offset: number; readonly value: PayloadByteModel }[];
}

export type DataDirectionModel = "none" | "toDevice" | "fromDevice";

export interface CommandModel {
	/** As SCSI documents it, e.g. "TEST UNIT READY". */
	readonly name: string;
	readonly cdb: readonly CdbByteModel[];
	readonly direction: DataDirectionModel;
	/** SG_DXFER_* value of the direction. */
	readonly dxferValue: number;
	readonly dataLength:
		| { readonly kind: "const"; readonly value: number }
		| { readonly kind: "context"; readonly field: ContextFieldModel };
	/** The largest data length the command can use (for buffer sizing). */
	readonly maxDataLength: number;
	/** What a toDevice command sends; null for the other directions. */
	readonly payload: PayloadModel | null;
	/** How it reaches the device (spec/commands.ts Transport); a directRead has no CDB. */
	readonly transport: TransportModel;
	/** directRead: the byte offset read from. */
	readonly offset: number;
}

export type TransportModel = "sgio" | "cciss" | "directRead";

/** The answer facts a transport gives; rules of its states may test only these. */
export const TRANSPORT_FACTS: Readonly<Record<TransportModel, readonly AnswerFactKind[]>> = {
	sgio: ["errno", "status", "sgInfo", "hostStatus", "driverStatus", "senseKey", "senseCode"],
	cciss: ["errno", "status", "sgInfo"],
	directRead: ["errno", "sgInfo"],
};

export interface DecoderFieldModel {
	readonly key: string;
	readonly type: ContextFieldType;
	/** A bytes field: how many bytes; 0 for a number. */
	readonly length: number;
	/** The largest value the field takes. */
	readonly max: number;
	readonly doc: string;
}

export interface DecoderOutcomeModel {
	readonly key: string;
	/** Position in the decoder's outcome list: the value the dataOutcome fact takes. */
	readonly index: number;
	readonly doc: string;
	readonly fields: readonly DecoderFieldModel[];
}

/** A value of a decoder program, validated: names resolved, reads proven within the bytes received. */
export type DecoderExprModel =
	| { readonly kind: "const"; readonly value: number }
	| { readonly kind: "received" }
	| { readonly kind: "allocated" }
	/** A big-endian integer at `at` from the base (the buffer, or the walk's descriptor), then `(v >> shift) & mask`. */
	| { readonly kind: "read"; readonly at: number; readonly size: 1 | 2 | 4; readonly shift: number; readonly mask?: number; readonly inWalk: boolean }
	| { readonly kind: "var"; readonly v: DecoderVarModel }
	| { readonly kind: "input"; readonly index: number; readonly key: string; readonly max: number }
	| {
			readonly kind: "op";
			readonly op: "add" | "mul" | "min" | "max" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or";
			readonly args: readonly DecoderExprModel[];
	  }
	| { readonly kind: "not"; readonly arg: DecoderExprModel }
	| { readonly kind: "in"; readonly arg: DecoderExprModel; readonly values: readonly number[] }
	| { readonly kind: "if"; readonly cond: DecoderExprModel; readonly then: DecoderExprModel; readonly else: DecoderExprModel }
	/** Whether `length` bytes read equal (eq) or differ from (ne) a bytes input of that length. */
	| { readonly kind: "bytesCompare"; readonly op: "eq" | "ne"; readonly read: DecoderBytesReadModel; readonly input: DecoderBytesInputModel };

/** `length` bytes at `at` from the base (the buffer, or the walk's descriptor), proven received. */
export interface DecoderBytesReadModel {
	readonly kind: "bytesRead";
	readonly at: number;
	readonly length: number;
	readonly inWalk: boolean;
}

/** A decoder input of type bytes. */
export interface DecoderBytesInputModel {
	readonly kind: "bytesInput";
	readonly index: number;
	readonly key: string;
	readonly length: number;
}

/** The value of a decoder input (what a state passes from its context). */
export interface DecoderInputModel {
	readonly key: string;
	readonly type: ContextFieldType;
	/** A bytes input: how many bytes; 0 for a number. */
	readonly length: number;
	readonly doc: string;
}

/** A name a decoder program binds (let) or changes (var). */
export interface DecoderVarModel {
	readonly key: string;
	readonly mutable: boolean;
	/** The largest value it holds; 1 for a truth value. */
	readonly max: number;
	/** Whether it only holds truth values (0 or 1, from a comparison or logic). */
	readonly boolean: boolean;
	/** Bound inside a walk (declared in the loop's body). */
	readonly inWalk: boolean;
}

export type DecoderStmtModel =
	| { readonly kind: "need"; readonly bytes: number; readonly outcome: DecoderOutcomeModel; readonly inWalk: boolean }
	| { readonly kind: "ifReceived"; readonly bytes: number; readonly then: readonly DecoderStmtModel[]; readonly else: readonly DecoderStmtModel[] }
	| { readonly kind: "set"; readonly v: DecoderVarModel; readonly value: DecoderExprModel }
	| { readonly kind: "when"; readonly cond: DecoderExprModel; readonly then: readonly DecoderStmtModel[]; readonly else: readonly DecoderStmtModel[] }
	| {
			readonly kind: "return";
			readonly outcome: DecoderOutcomeModel;
			/** A number field's value, or a bytes field's bytes. */
			readonly fields: readonly (
				| { readonly field: DecoderFieldModel; readonly value: DecoderExprModel; readonly bytes?: undefined }
				| { readonly field: DecoderFieldModel; readonly value?: undefined; readonly bytes: DecoderBytesReadModel }
			)[];
	  }
	| { readonly kind: "break" }
	| {
			readonly kind: "walk";
			readonly from: DecoderExprModel;
			readonly to: DecoderExprModel;
			readonly header: number;
			readonly length: DecoderExprModel;
			readonly headerPast: readonly DecoderStmtModel[];
			/** null: the descriptor's header is decoded even when its body runs past the end. */
			readonly bodyPast: readonly DecoderStmtModel[] | null;
			readonly each: readonly DecoderStmtModel[];
			readonly overrun: readonly DecoderStmtModel[];
	  };

/** A decoder of the data one command returns: its outcomes and the program both back ends are generated from. */
export interface DecoderModel {
	/** The decoder's name, e.g. "rtpgTargetPortGroup". */
	readonly name: string;
	/** A short name for its identifiers, e.g. "rtpg". */
	readonly shortName: string;
	readonly doc: string;
	readonly outcomes: readonly DecoderOutcomeModel[];
	/** Every field any outcome provides, each once. */
	readonly fields: readonly DecoderFieldModel[];
	/** Inputs from the path's context. */
	readonly inputs: readonly DecoderInputModel[];
	/** The shortest data length a command it decodes may have. */
	readonly minDataLength: number;
	/** The algorithm; every path through it ends in a return. */
	readonly program: readonly DecoderStmtModel[];
	/** Every name the program binds, in order. */
	readonly vars: readonly DecoderVarModel[];
	/** The sizes of the big-endian reads it makes (1, 2, 4). */
	readonly readSizes: readonly number[];
}

export interface DecoderUseModel {
	readonly decoder: DecoderModel;
	readonly inputs: readonly { readonly key: string; readonly field: ContextFieldModel }[];
	/** Context fields stored per outcome, right after decoding. */
	readonly store: readonly { readonly outcome: DecoderOutcomeModel; readonly assignments: readonly AssignmentModel[] }[];
}

interface StateBase {
	readonly key: string;
	readonly doc?: string;
	readonly loc: SourceLocation;
	readonly rules: readonly RuleModel[];
}

/** A state that sends one command and classifies its answer. */
export interface CommandStateModel extends StateBase {
	readonly kind: "command";
	readonly command: CommandModel;
	readonly decoder: DecoderUseModel | null;
}

/** A state that decides from the context alone. */
export interface DecisionStateModel extends StateBase {
	readonly kind: "decision";
}

export type StateModel = CommandStateModel | DecisionStateModel;

/**
 * Commands run when a path's checker is initialised: the init states are
 * states of `CheckerModel.states` that only `initial` reaches; their rules
 * end in a "done" outcome (or move on to another init state).
 */
export interface InitModel {
	readonly initial: StateModel;
	/** The init states, in spec order. */
	readonly states: readonly StateModel[];
	/** What a target whose init cannot do I/O does; null: the spec lists only targets whose init can. */
	readonly withoutInitIo: "atFirstCheck" | "skip" | null;
	readonly doc?: string;
	readonly loc: SourceLocation;
}

export interface CheckerModel {
	readonly kind: "checker";
	readonly name: string;
	readonly description: string;
	readonly copyright: string;
	/** The spec file, relative to the working directory. */
	readonly specFile: string;
	readonly loc: SourceLocation;
	readonly targets: readonly string[];
	readonly messages: readonly MessageModel[];
	readonly budgets: readonly BudgetModel[];
	readonly context: readonly ContextFieldModel[];
	readonly states: readonly StateModel[];
	readonly initial: StateModel;
	/**
	 * The init states, run by libcheck_init on a target whose init can do
	 * I/O; null without init states, and in the view of the model for a
	 * target without init I/O (generator/model/init-view.ts), where they
	 * run at the first check or are left out.
	 */
	readonly init: InitModel | null;
	/** The largest data buffer any state needs (0: no command has data). */
	readonly maxDataLength: number;
	/** Decoders used by any state, each once, in state order. */
	readonly decoders: readonly DecoderModel[];
	/** The sense buffer length SG_IO is given. */
	readonly senseLength: number;
	/** What the spec does that works but is likely a mistake (unused items, redundant rules). */
	readonly warnings: readonly Diagnostic[];
}

export interface RunnerStateModel {
	readonly key: string;
	readonly value: number;
	/** What runner_state_name() returns. */
	readonly name: string;
	readonly doc: string;
	readonly terminal: boolean;
}

export interface RunnerCaseModel {
	readonly from: RunnerStateModel;
	readonly when?: { readonly key: string; readonly doc: string };
	readonly await?: { readonly key: string; readonly doc: string };
	readonly to?: RunnerStateModel;
	readonly effects: readonly { readonly key: string; readonly doc: string }[];
	readonly call?: string;
	readonly returns: RunnerStateModel;
	readonly doc?: string;
	readonly loc: SourceLocation;
}

export interface RunnerOperationModel {
	readonly key: string;
	readonly actor: "thread" | "caller";
	readonly doc: string;
	/** Cases grouped by state, in state order; within a state, in spec order. */
	readonly byState: readonly { readonly state: RunnerStateModel; readonly cases: readonly RunnerCaseModel[] }[];
	readonly loc: SourceLocation;
}

/** What an operation of the pool returns, for the fixed code. */
export interface PoolOutcomeModel {
	readonly key: string;
	readonly value: number;
	readonly doc: string;
}

export interface PoolCaseModel {
	readonly when?: { readonly key: string; readonly doc: string };
	readonly await?: { readonly key: string; readonly doc: string };
	readonly effects: readonly { readonly key: string; readonly doc: string }[];
	/** Undefined for an operation that returns nothing, and for a case that waits. */
	readonly returns?: PoolOutcomeModel;
	readonly doc?: string;
	readonly loc: SourceLocation;
}

export interface PoolOperationModel {
	readonly key: string;
	readonly actor: "thread" | "caller";
	readonly doc: string;
	/** In order: the first whose condition holds applies; the last has none. */
	readonly cases: readonly PoolCaseModel[];
	/** Whether it returns an outcome (release does not). */
	readonly returnsOutcome: boolean;
	readonly loc: SourceLocation;
}

/** The pool of get_persistent_runner(): its counts and queue change under its lock. */
export interface PoolModel {
	readonly doc: string;
	readonly outcomes: readonly PoolOutcomeModel[];
	readonly operations: readonly PoolOperationModel[];
}

export interface RunnerModel {
	readonly kind: "runner";
	readonly description: string;
	readonly copyright: string;
	readonly specFile: string;
	readonly states: readonly RunnerStateModel[];
	readonly initial: string;
	readonly operations: readonly RunnerOperationModel[];
	readonly pool: PoolModel;
	readonly stackSize: number;
	readonly idleTimeoutMs: number;
	/** pool threads started by a SCHED_OTHER thread run SCHED_BATCH (RUNNER_BATCH_WORKERS) */
	readonly batchWorkers: boolean;
	readonly maxNrTimeouts: number;
}

export type SpecModel = CheckerModel | RunnerModel;
