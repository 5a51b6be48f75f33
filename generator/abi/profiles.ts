// ABI profiles: what a multipath-tools release offers a checker plugin.
// Facts from shared/reference/multipath-abi.md (§1 path states, §2 message
// IDs, §3 struct checker, §4 struct runner_data and the plugin symbols, §6
// version nodes). The spec types derive from these constants, so a spec that
// names a path state or message its target lacks does not compile; the
// stand-in headers for a standalone build are generated from them.

import { HOST_STATUS } from "../spec/vocabulary.ts";

/** A C struct member as the stand-in headers declare it. */
export interface AbiMember {
	/** The declaration without the trailing semicolon, e.g. `int fd`. */
	decl: string;
	/** Byte offset on x86_64, checked by the layout test. */
	offset: number;
	doc?: string;
}

export interface AbiStruct {
	/** `struct NAME` or `union NAME`. */
	tag: string;
	members: readonly AbiMember[];
	/** sizeof on x86_64. */
	size: number;
	doc: string;
}

export interface AbiVersionNode {
	name: string;
	/** The node this one inherits, if any. */
	inherits?: string;
}

export interface AbiProfile {
	id: string;
	/** The multipath-tools release the facts were read from. */
	release: string;
	/** Plugin ABI generation: A (≤0.10), B (0.11–0.14), C (0.15–). */
	pluginAbi: "A" | "B" | "C";
	/** `enum path_check_state` in order; the value is the index. */
	pathStates: readonly string[];
	/** The subset a checker may report (never PATH_REMOVED, PATH_DELAYED, PATH_TIMEOUT). */
	checkerPathStates: readonly string[];
	/** Generic message IDs `CHECKER_MSGID_<NAME>` in order, with their texts. */
	genericMessages: readonly (readonly [name: string, text: string])[];
	firstMessageId: number;
	messageTableSize: number;
	/**
	 * Path states a spec may report although the target lacks them, and what
	 * the target gets instead: what a later multipathd makes of them (0.14+
	 * turns PATH_DISCONNECTED into PATH_DOWN), so the check means the same.
	 */
	substitutes: Readonly<Record<string, string>>;
	/** Generic messages a spec may name although the target lacks them, and the target's instead. */
	messageSubstitutes: Readonly<Record<string, string>>;
	/**
	 * Messages the async framework reports that the target's generic table
	 * lacks: they open every generated checker's msgtable (name, text).
	 */
	frameworkMessages: readonly (readonly [name: string, text: string])[];
	/** Whether mpcheckgen can emit C for this target. */
	emitter: boolean;
	/**
	 * Whether a checker's init can send commands: 0.9.4–0.14 call
	 * libcheck_init with the path's fd open; 0.15 calls libcheck_async_init
	 * with fd -1 (multipath-abi.md §7), so a spec with init states says what
	 * its checker does instead (`init.withoutInitIo`).
	 */
	initIo: boolean;
}

const STATES_094 = [
	"PATH_WILD",
	"PATH_UNCHECKED",
	"PATH_DOWN",
	"PATH_UP",
	"PATH_SHAKY",
	"PATH_GHOST",
	"PATH_PENDING",
	"PATH_TIMEOUT",
	"PATH_REMOVED",
	"PATH_DELAYED",
] as const;
const STATES_014 = [...STATES_094, "PATH_DISCONNECTED"] as const;

const CHECKER_STATES_094 = [
	"PATH_WILD",
	"PATH_UNCHECKED",
	"PATH_DOWN",
	"PATH_UP",
	"PATH_SHAKY",
	"PATH_GHOST",
	"PATH_PENDING",
] as const;
const CHECKER_STATES_014 = [...CHECKER_STATES_094, "PATH_DISCONNECTED"] as const;

const MSGS_094 = [
	["NONE", ""],
	["DISABLED", " is disabled"],
	["NO_FD", " has no usable fd"],
	["INVALID", " provided invalid message id"],
	["UP", " reports path is up"],
	["DOWN", " reports path is down"],
	["GHOST", " reports path is ghost"],
	["UNSUPPORTED", " doesn't support this device"],
] as const;
const MSGS_014 = [...MSGS_094, ["DISCONNECTED", " no access to this device"]] as const;
const MSGS_015 = [...MSGS_014, ["TIMEOUT", " timed out"], ["RUNNING", " still running"]] as const;

export const ABI_PROFILES = {
	"0.9": {
		id: "0.9",
		release: "0.9.4",
		pluginAbi: "A",
		pathStates: STATES_094,
		checkerPathStates: CHECKER_STATES_094,
		genericMessages: MSGS_094,
		firstMessageId: 100,
		messageTableSize: 100,
		substitutes: { PATH_DISCONNECTED: "PATH_DOWN" },
		messageSubstitutes: { DISCONNECTED: "DOWN" },
		frameworkMessages: [
			["RUNNING", " still running"],
			["TIMEOUT", " timed out"],
		],
		emitter: true,
		initIo: true,
	},
	"0.14": {
		id: "0.14",
		release: "0.14.3",
		pluginAbi: "B",
		pathStates: STATES_014,
		checkerPathStates: CHECKER_STATES_014,
		genericMessages: MSGS_014,
		firstMessageId: 100,
		messageTableSize: 100,
		substitutes: {},
		messageSubstitutes: {},
		frameworkMessages: [],
		emitter: false,
		initIo: true,
	},
	"0.15": {
		id: "0.15",
		release: "0.15.0",
		pluginAbi: "C",
		pathStates: STATES_014,
		checkerPathStates: CHECKER_STATES_014,
		genericMessages: MSGS_015,
		firstMessageId: 100,
		messageTableSize: 100,
		substitutes: {},
		messageSubstitutes: {},
		frameworkMessages: [],
		emitter: true,
		initIo: false,
	},
} as const satisfies Record<string, AbiProfile>;

export type AbiTargetId = keyof typeof ABI_PROFILES;
export const ABI_TARGET_IDS = Object.keys(ABI_PROFILES) as AbiTargetId[];

/** Path states a checker for target T may report (its own, and those it has a substitute for). */
export type CheckerPathStateOf<T extends AbiTargetId> =
	| (typeof ABI_PROFILES)[T]["checkerPathStates"][number]
	| (keyof (typeof ABI_PROFILES)[T]["substitutes"] & string);
/** Generic message names (`CHECKER_MSGID_<name>`) of target T, and those it has a substitute for. */
export type GenericMessageOf<T extends AbiTargetId> =
	| (typeof ABI_PROFILES)[T]["genericMessages"][number][0]
	| (keyof (typeof ABI_PROFILES)[T]["messageSubstitutes"] & string);

/** What every target of a tuple offers: the intersection over the targets. */
export type CommonPathState<Ts extends readonly AbiTargetId[]> = Ts extends readonly [
	infer H extends AbiTargetId,
	...infer R extends readonly AbiTargetId[],
]
	? R extends readonly []
		? CheckerPathStateOf<H>
		: CheckerPathStateOf<H> & CommonPathState<R>
	: never;
export type CommonGenericMessage<Ts extends readonly AbiTargetId[]> = Ts extends readonly [
	infer H extends AbiTargetId,
	...infer R extends readonly AbiTargetId[],
]
	? R extends readonly []
		? GenericMessageOf<H>
		: GenericMessageOf<H> & CommonGenericMessage<R>
	: never;

export function abiProfile(id: string): AbiProfile | undefined {
	return (ABI_PROFILES as Record<string, AbiProfile>)[id];
}

/**
 * The 0.15 (plugin ABI C) interface details the stand-in headers and the
 * async-checker glue are generated from.
 */
export const ABI_015_DETAILS = {
	/** `CHECKER_MAX_CONTEXT_SIZE`: the largest `libcheck_async_context_size`. */
	maxContextSize: 1024,
	/** How multipathd 0.15 keeps at most this many abandoned runners per path. */
	maxNrTimeouts: 1,
	/** The 0.15 `union checker_mpcontext`. */
	mpcontext: {
		tag: "union checker_mpcontext",
		members: [{ decl: "long long_val", offset: 0 }],
		size: 8,
		doc: "Map-wide checker data, passed by multipathd as &mpp->mpcontext",
	},
	invalidMpcontext: -1,
	/**
	 * The bits of `long_val` map context fields may take: a long is 32 bits
	 * on 32-bit machines, and a value with the sign bit clear is never the
	 * invalid -1.
	 */
	mpcontextBits: 31,
	/** The 0.15 `struct checker`. */
	checker: {
		tag: "struct checker",
		members: [
			{ decl: "struct checker_class *cls", offset: 0 },
			{ decl: "int fd", offset: 8 },
			{ decl: "unsigned int timeout", offset: 12, doc: "checker_timeout, in seconds" },
			{ decl: "int disable", offset: 16 },
			{ decl: "int path_state", offset: 20 },
			{ decl: "short msgid", offset: 24 },
			{ decl: "void *context", offset: 32, doc: "owned by the async checker framework" },
		],
		size: 40,
		doc: "A path's checker instance",
	},
	/** The 0.15 `struct checker_class` (public in 0.15). */
	checkerClass: {
		tag: "struct checker_class",
		members: [
			{ decl: "struct list_head node", offset: 0 },
			{ decl: "void *handle", offset: 16 },
			{ decl: "int sync", offset: 24 },
			{ decl: "char name[CHECKER_NAME_LEN]", offset: 28 },
			{ decl: "int (*check)(struct checker *, union checker_mpcontext *)", offset: 48 },
			{ decl: "int (*init)(struct checker *)", offset: 56 },
			{ decl: "void (*free)(struct checker *)", offset: 64 },
			{ decl: "void (*reset)(void)", offset: 72 },
			{ decl: "int (*pending)(struct checker *, union checker_mpcontext *)", offset: 80 },
			{ decl: "bool (*need_wait)(struct checker *)", offset: 88 },
			{ decl: "async_checker_func async_func", offset: 96 },
			{ decl: "const char **msgtable", offset: 104 },
			{ decl: "short msgtable_size", offset: 112 },
		],
		size: 120,
		doc: "A loaded checker plugin",
	},
	/** The 0.15 `struct runner_data` (libmultipath/async_checker.h). */
	runnerData: {
		tag: "struct runner_data",
		members: [
			{ decl: "int fd", offset: 0 },
			{ decl: "dev_t devt", offset: 8 },
			{ decl: "async_checker_func afunc", offset: 16 },
			{ decl: "unsigned int timeout", offset: 24, doc: "seconds" },
			{ decl: "int state", offset: 28 },
			{ decl: "short msgid", offset: 32 },
			{ decl: "union checker_mpcontext mpc", offset: 40 },
			{ decl: "char checker_ctx[] __attribute__((aligned(sizeof(void *))))", offset: 48 },
		],
		size: 48,
		doc: "The data copied to and from a checker's runner thread",
	},
	checkerNameLength: 16,
	/** The host statuses (DID_*) libmultipath/sg_include.h defines. */
	hostStatus: HOST_STATUS,
	/** Plugin symbols of an async (ABI C) checker. */
	pluginSymbols: {
		asyncFunc: "libcheck_async_func",
		msgtable: "libcheck_msgtable",
		contextSize: "libcheck_async_context_size",
		asyncInit: "libcheck_async_init",
	},
	/** The libmpathutil version node the runner's node inherits. */
	libmpathutil: { previous: "LIBMPATHUTIL_6.1", next: "LIBMPATHUTIL_6.2" },
} as const;

/**
 * The 0.9.4 (plugin ABI A) interface details: the plugin exports
 * libcheck_check/init/free (and the msgtable); a check may run in a thread
 * of its own and return PATH_PENDING; checker_is_sync() tells a
 * synchronous caller (the multipath command).
 */
export const ABI_094_DETAILS = {
	/** The 0.9.4 `struct checker`. */
	checker: {
		tag: "struct checker",
		members: [
			{ decl: "struct checker_class *cls", offset: 0 },
			{ decl: "int fd", offset: 8 },
			{ decl: "unsigned int timeout", offset: 12, doc: "checker_timeout, in seconds" },
			{ decl: "int disable", offset: 16 },
			{ decl: "short msgid", offset: 20 },
			{ decl: "void *context", offset: 24, doc: "plugin-private: the async framework's" },
			{ decl: "void **mpcontext", offset: 32 },
		],
		size: 40,
		doc: "A path's checker instance",
	},
	/**
	 * The data copied to and from a check's runner thread: the fields the
	 * generated checkers use, named as 0.15's struct runner_data names them,
	 * so the same checker C serves both ABIs.
	 */
	runnerData: {
		tag: "struct runner_data",
		members: [
			{ decl: "int fd", offset: 0 },
			{ decl: "dev_t devt", offset: 8 },
			{ decl: "int (*afunc)(struct runner_data *)", offset: 16 },
			{ decl: "unsigned int timeout", offset: 24, doc: "seconds" },
			{ decl: "int state", offset: 28 },
			{ decl: "short msgid", offset: 32 },
			{ decl: "union checker_mpcontext mpc", offset: 40, doc: "the map's context, as the check sees and changes it" },
			{ decl: "char checker_ctx[] __attribute__((aligned(sizeof(void *))))", offset: 48 },
		],
		size: 48,
		doc: "The data copied to and from a check's runner thread",
	},
	/** The largest context a checker may ask for, as 0.15's CHECKER_MAX_CONTEXT_SIZE. */
	maxContextSize: 1024,
	/** How long libcheck_check waits for a check it started, as 0.9.4's tur waits for its thread. */
	waitUsec: 1000,
} as const;
