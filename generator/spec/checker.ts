// The checker spec language: a checker is a typed TypeScript value built with
// defineChecker(). The types make a goto to an unknown state, an unknown
// message or budget, a path state or generic message the target ABI lacks,
// an unknown context field or decoder outcome a compile error in the editor.
// The model builder (generator/model/) re-checks everything at generation
// time, because types can be bypassed.
import type { AbiTargetId, CommonGenericMessage, CommonPathState } from "../abi/profiles.ts";
import type { CommandSpec } from "./commands.ts";
import type {
	AnyDecoder,
	DecoderFieldName,
	DecoderInputName,
	DecoderOutcomeName,
	FieldType,
	LibraryDecoders,
	OutcomeFieldName,
} from "./decoders.ts";
import type { ErrnoName, HostStatusName, ScsiStatusName, SenseKeyName } from "./vocabulary.ts";

export type OneOrMany<T> = T | readonly T[];

/** A field of the context the checker keeps between checks. */
export type ContextFieldSpec = NumericContextFieldSpec | BytesContextFieldSpec;

/** A number (or bool) kept between checks, by the path or by its map. */
export interface NumericContextFieldSpec {
	type: FieldType;
	/**
	 * "path" (the default): the path's own context. "map": shared by every
	 * path of the map (multipathd's map-wide checker context), e.g. a flag
	 * one path's check sets and the others' checks test.
	 */
	scope?: "path" | "map";
	/** The value libcheck_async_init sets (default 0 / false). */
	init?: number | boolean;
	/** The largest value the checker may store in a numeric field. */
	max?: number;
	doc?: string;
}

/**
 * `length` bytes kept between checks (all zero after init), e.g. a WWN: set
 * only by storing a decoder's bytes field of the same length, read only as
 * a decoder's bytes input. Never a number: a rule cannot test it, a CDB or
 * a message cannot use it.
 */
export interface BytesContextFieldSpec {
	type: "bytes";
	length: number;
	/** Bytes are the path's own: the map's context is one long. */
	scope?: "path";
	init?: never;
	max?: never;
	doc?: string;
}
export type ContextSpec = Record<string, ContextFieldSpec>;
/** The context fields that hold numbers (not bytes): what a CDB, a length or a message value may use. */
export type NumericContextKey<Ctx extends ContextSpec> = { [K in keyof Ctx]: Ctx[K]["type"] extends "bytes" ? never : K }[keyof Ctx] & string;

/** A checker-specific message: the text follows "<name> checker". */
export interface MessageSpec {
	/** The text; with `values`, "%s" marks where the value's text goes. */
	text: string;
	/**
	 * One text per value 0, 1, …: the message takes one msgtable entry per
	 * value, and a report picks one with `value` (a decoded or context field
	 * whose largest value has a text).
	 */
	values?: readonly string[];
	doc?: string;
}

/** A named, bounded retry budget; counted per check, shared by every rule that draws from it. */
export interface RetryBudgetSpec {
	/** How many retries the budget allows (attempts = retries + 1). */
	maxRetries: number;
	doc?: string;
}

/** "ASC/ASCQ" in hex, e.g. "04/0B"; "29/*" matches any ASCQ. */
export type SenseCode = `${string}/${string}`;

/**
 * A test of a number: a value or a list of values, `{ not: … }`,
 * `{ range: [lo, hi] }` (inclusive), or a bit test: `{ mask, value }`
 * (`(x & mask) == value`), `{ allBits }`, `{ anyBits }`, `{ noBits }`.
 */
export type NumericTest =
	| OneOrMany<number>
	| { readonly not: OneOrMany<number> }
	| { readonly range: readonly [number, number] }
	| { readonly mask: number; readonly value: number }
	| { readonly allBits: number }
	| { readonly anyBits: number }
	| { readonly noBits: number };

/** Facts about the SG_IO answer a rule can test. All given facts must hold. */
export interface AnswerPredicate {
	/**
	 * The ioctl failed with this errno ("any": with any errno). Every other
	 * fact implies the ioctl succeeded.
	 */
	errno?: "any" | OneOrMany<ErrnoName>;
	/** SCSI status, compared as `(status & 0x7e) == value`. */
	status?: OneOrMany<ScsiStatusName>;
	/** `info & SG_INFO_OK_MASK`: "ok" (0) or "check" (1). */
	sgInfo?: "ok" | "check";
	/** Host status is one of these, or (`not`) none of these. */
	hostStatus?: OneOrMany<HostStatusName> | { not: readonly HostStatusName[] };
	/** The driver status (`driver_status`), e.g. `{ mask: 0x0f, value: 0x08 }` for DRIVER_SENSE. */
	driverStatus?: NumericTest;
	/**
	 * Sense data, decoded from fixed (0x70/0x71) or descriptor (0x72/0x73)
	 * format within `sb_len_wr`; key, ASC and ASCQ are 0 without sense.
	 */
	sense?: { key?: OneOrMany<SenseKeyName>; code?: OneOrMany<SenseCode> };
}

export type ContextPredicate<Ctx extends ContextSpec> = {
	[K in keyof Ctx]?: Ctx[K]["type"] extends "bool" ? boolean : Ctx[K]["type"] extends "bytes" ? never : NumericTest;
};

export type DataPredicate<D extends AnyDecoder> = {
	/** The decoder's outcome; left out: the outcomes that provide every field named. */
	outcome?: OneOrMany<DecoderOutcomeName<D>>;
} & { [F in DecoderFieldName<D>]?: F extends BytesFieldName<D> ? never : NumericTest | boolean };

/** The decoder's fields of type bytes: never tested by a rule. */
type BytesFieldName<D extends AnyDecoder> = {
	[O in DecoderOutcomeName<D>]: {
		[F in OutcomeFieldName<D, O>]: D["outcomes"][O]["fields"][F]["type"] extends "bytes" ? F : never;
	}[OutcomeFieldName<D, O>];
}[DecoderOutcomeName<D>];

/** A value assigned to a context field. */
export type AssignedValue<Ctx extends ContextSpec, D extends AnyDecoder | never> =
	| number
	| boolean
	| ([D] extends [never] ? never : { data: DecoderFieldName<D> })
	| { context: keyof Ctx & string };

export type Assignments<Ctx extends ContextSpec, D extends AnyDecoder | never> = {
	[K in keyof Ctx]?: AssignedValue<Ctx, D>;
};

export interface ReportOutcome<PS extends string, M extends string, Ctx extends ContextSpec, D extends AnyDecoder> {
	/** The path state the check reports. */
	report: PS;
	/** A generic message name (e.g. "UP") or a key of `messages`. */
	message: M;
	set?: Assignments<Ctx, D>;
	/** For a message with values: the field whose value picks its text (read after `set`). */
	value?: ([D] extends [never] ? never : { data: DecoderFieldName<D> }) | { context: NumericContextKey<Ctx> };
}

export interface GotoOutcome<S extends string, Ctx extends ContextSpec, D extends AnyDecoder> {
	/** The state the check continues in. */
	goto: S;
	set?: Assignments<Ctx, D>;
}

export interface RetryOutcome<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
	D extends AnyDecoder,
> {
	/** The budget the retry draws from. */
	retry: B;
	/** The state to retry in (default: this state). */
	goto?: S;
	set?: Assignments<Ctx, D>;
	/**
	 * When the budget is spent: "fallthrough" goes on with the next rules,
	 * or the outcome to take instead.
	 */
	whenExhausted: "fallthrough" | ReportOutcome<PS, M, Ctx, D> | GotoOutcome<S, Ctx, D> | DoneOutcome<Ctx, D>;
}

/**
 * Ends the checker's init (in init states only; see `init`): an init
 * reports no path state, it just ends, whatever its commands got.
 */
export interface DoneOutcome<Ctx extends ContextSpec, D extends AnyDecoder> {
	done: true;
	set?: Assignments<Ctx, D>;
	/** Logged with condlog at level 3 (after the path's major:minor and the checker's name), e.g. what failed. */
	log?: string;
}

export type Outcome<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
	D extends AnyDecoder,
> = ReportOutcome<PS, M, Ctx, D> | GotoOutcome<S, Ctx, D> | RetryOutcome<S, B, PS, M, Ctx, D> | DoneOutcome<Ctx, D>;

export interface Rule<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
	D extends AnyDecoder,
> {
	/** The facts that select this rule; no `when` matches every answer. */
	when?: AnswerPredicate & {
		context?: ContextPredicate<Ctx>;
		data?: [D] extends [never] ? never : DataPredicate<D>;
	};
	then: Outcome<S, B, PS, M, Ctx, D>;
	/** A short description; a JSDoc comment on the rule works too. */
	doc?: string;
}

export interface DecisionRule<S extends string, PS extends string, M extends string, Ctx extends ContextSpec> {
	when?: { context?: ContextPredicate<Ctx> };
	then: ReportOutcome<PS, M, Ctx, never> | GotoOutcome<S, Ctx, never> | DoneOutcome<Ctx, never>;
	doc?: string;
}

/** A state that sends no command: it chooses the next state from the context. */
export interface DecisionState<S extends string, PS extends string, M extends string, Ctx extends ContextSpec> {
	doc?: string;
	decide: readonly DecisionRule<S, PS, M, Ctx>[];
}

interface CommandStateBase<Ctx extends ContextSpec> {
	doc?: string;
	command: CommandSpec<NumericContextKey<Ctx>>;
}

export interface PlainCommandState<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
> extends CommandStateBase<Ctx> {
	decoder?: undefined;
	rules: readonly Rule<S, B, PS, M, Ctx, never>[];
}

export interface DecodingCommandState<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
	N extends string,
	D extends AnyDecoder,
> extends CommandStateBase<Ctx> {
	/** Decodes the data of a GOOD answer (`sgInfo` ok): a decoder of the library or of the spec's `decoders`. */
	decoder: N;
	/** Decoder inputs taken from context fields. */
	decoderInputs?: { [I in DecoderInputName<D>]: { context: keyof Ctx & string } };
	/** Context fields stored from an outcome's fields as soon as it is decoded. */
	store?: {
		[O in DecoderOutcomeName<D>]?: { [K in keyof Ctx]?: OutcomeFieldName<D, O> | number | boolean };
	};
	rules: readonly Rule<S, B, PS, M, Ctx, D>[];
}

/** The decoders a state may name: the library's and the spec's own. */
export type DecoderMap = Readonly<Record<string, AnyDecoder>>;
type AllDecoders<Decs extends DecoderMap> = Omit<LibraryDecoders, keyof Decs> & Decs;

export type StateSpec<
	S extends string,
	B extends string,
	PS extends string,
	M extends string,
	Ctx extends ContextSpec,
	Decs extends DecoderMap = {},
> =
	| DecisionState<S, PS, M, Ctx>
	| PlainCommandState<S, B, PS, M, Ctx>
	| {
			[K in keyof AllDecoders<Decs> & string]: DecodingCommandState<S, B, PS, M, Ctx, K, AllDecoders<Decs>[K]>;
	  }[keyof AllDecoders<Decs> & string];

/**
 * Commands run when a path's checker is initialised (upstream's
 * libcheck_init): the init states are ordinary states, those reached from
 * `initial`; their rules end the init with `{ done: true }` (never a
 * report). A target whose init can do I/O (0.9) runs them in
 * libcheck_init, with the path's fd; one that calls init with fd -1 (0.15)
 * needs `withoutInitIo`.
 */
export interface InitSpec<S extends string> {
	/** The state the init starts in. */
	initial: S;
	/**
	 * For a target whose init cannot do I/O: "atFirstCheck" runs the init
	 * states at the start of the path's first check (then the check's
	 * initial state), "skip" leaves them out there.
	 */
	withoutInitIo?: "atFirstCheck" | "skip";
	doc?: string;
}

export interface CheckerSpecInput<
	Ts extends readonly AbiTargetId[],
	S extends string,
	M extends string,
	B extends string,
	Ctx extends ContextSpec,
	Decs extends DecoderMap = {},
> {
	/** The checker's name: `libcheck<name>.so`, at most 15 characters. */
	name: string;
	/** One line: what the checker does. */
	description: string;
	/** The copyright line of the generated C, e.g. "2026 The mpcheckgen authors". */
	copyright: string;
	/** The multipath-tools checker ABIs this checker is written for. */
	targets: Ts;
	messages?: { [K in M]: MessageSpec };
	retryBudgets?: { [K in B]: RetryBudgetSpec };
	context?: Ctx;
	/** The checker's own decoders (defineDecoder), by the name a state gives as `decoder`. */
	decoders?: Decs;
	/** The state every check starts in. */
	initial: NoInfer<S>;
	/** Commands run when a path's checker is initialised (see InitSpec). */
	init?: InitSpec<NoInfer<S>>;
	states: {
		[K in S]: StateSpec<
			NoInfer<S>,
			NoInfer<B>,
			CommonPathState<Ts>,
			NoInfer<M> | CommonGenericMessage<Ts>,
			NoInfer<Ctx>,
			NoInfer<Decs>
		>;
	};
}

/** What defineChecker returns: the spec, tagged; the generator validates it. */
export interface CheckerSpec {
	readonly kind: "checker";
	readonly name: string;
	readonly description: string;
	readonly copyright: string;
	readonly targets: readonly string[];
	readonly messages?: Readonly<Record<string, MessageSpec>>;
	readonly retryBudgets?: Readonly<Record<string, RetryBudgetSpec>>;
	readonly context?: Readonly<Record<string, ContextFieldSpec>>;
	readonly decoders?: Readonly<Record<string, unknown>>;
	readonly initial: string;
	readonly init?: { readonly initial: string; readonly withoutInitIo?: "atFirstCheck" | "skip"; readonly doc?: string };
	readonly states: Readonly<Record<string, unknown>>;
}

export function defineChecker<
	const Ts extends readonly AbiTargetId[],
	const S extends string,
	const M extends string = never,
	const B extends string = never,
	const Ctx extends ContextSpec = {},
	const Decs extends DecoderMap = {},
>(spec: CheckerSpecInput<Ts, S, M, B, Ctx, Decs>): CheckerSpec {
	return { kind: "checker", ...spec } as CheckerSpec;
}
